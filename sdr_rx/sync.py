"""Burst detection, carrier-offset and timing estimation (vectorised numpy on whole blocks).

- Detection: normalised autocorrelation of the 8-periodic STF,
  ``M[n] = |P[n]|^2 / (E1[n] E2[n])`` with ``P[n] = sum_{m<W} x[n+m] conj(x[n+m+8])``; ``M`` is
  near ``(s/(1+s))^2`` on a preamble at linear SNR ``s`` and near ``1/W`` on noise alone.
- Coarse CFO from the angle of ``P`` at the metric's peak: unambiguous to +-fs/16.
- Timing: cross-correlation with the known LTF (after coarse CFO correction), summed over both
  LTF copies; the start is backed off a few samples into the cyclic prefix.
- Fine CFO from the two LTF copies, 80 samples apart (+-fs/160 range, far finer).
"""

from __future__ import annotations

import numpy as np

from semcom.numerology import CP_LEN, FFT_LEN, STF_PERIOD, SYM_LEN, sync_words

WINDOW = 128            # autocorrelation window (samples)
THRESHOLD = 0.2         # detection threshold on M (noise alone: mean 1/WINDOW)
MIN_RUN = 8             # consecutive samples above threshold to declare a burst
TIMING_BACKOFF = 3      # samples into the cyclic prefix
STF_LEN = 2 * SYM_LEN
LTF_BODY0 = 2 * SYM_LEN + CP_LEN        # offset of the first LTF body from the burst start


def _ltf_time() -> np.ndarray:
    ltf = np.asarray(sync_words()[2])
    return np.fft.ifft(np.fft.ifftshift(ltf)).astype(np.complex64) * FFT_LEN


LTF_TIME = _ltf_time()


def autocorr_metric(x: np.ndarray, window: int = WINDOW, lag: int = STF_PERIOD):
    """-> (M, P) for start positions 0..len(x)-window-lag."""
    n = len(x) - window - lag
    if n <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.complex64)
    # running sums as differences of cumulative sums (float64: no drift over a block);
    # energies as re^2 + im^2 and |P|^2 likewise (no square roots)
    prod = x[:-lag] * np.conj(x[lag:])
    cs = np.empty(len(prod) + 1, np.complex128)
    cs[0] = 0
    np.cumsum(prod, dtype=np.complex128, out=cs[1:])
    P = cs[window:window + n + 1] - cs[:n + 1]
    sq = np.ascontiguousarray(x, np.complex64).view(np.float32).astype(np.float64) ** 2
    e = np.empty(len(x) + 1)
    e[0] = 0
    np.cumsum(sq[0::2] + sq[1::2], out=e[1:])
    E1 = e[window:window + n + 1] - e[:n + 1]
    E2 = e[window + lag:window + lag + n + 1] - e[lag:lag + n + 1]
    M = (P.real * P.real + P.imag * P.imag) / np.maximum(E1 * E2, 1e-30)
    return M.astype(np.float32), P


def find_burst(M: np.ndarray, start: int = 0, threshold: float = THRESHOLD,
               min_run: int = MIN_RUN) -> int | None:
    """Index of the first sample at or after ``start`` that begins ``min_run`` consecutive
    metric values above ``threshold``; None if there is none."""
    above = M[start:] > threshold
    if not above.any():
        return None
    # run lengths via a sliding sum
    cs = np.concatenate([[0], np.cumsum(above, dtype=np.int64)])
    runs = cs[min_run:] - cs[:-min_run]
    hits = np.flatnonzero(runs == min_run)
    return None if hits.size == 0 else start + int(hits[0])


def coarse_cfo(P: np.ndarray, M: np.ndarray, first: int, span: int = 48) -> tuple[int, float]:
    """-> (peak index, CFO in cycles/sample) from the metric peak within ``span`` of ``first``."""
    seg = M[first:first + span]
    peak = first + int(np.argmax(seg))
    return peak, float(-np.angle(P[peak]) / (2 * np.pi * STF_PERIOD))


def rotate(x: np.ndarray, cfo: float, n0: int = 0) -> np.ndarray:
    """Remove a CFO of ``cfo`` cycles/sample (sample ``i`` of ``x`` has absolute index n0+i).

    The phasor is built from 64-sample blocks (one exp per block start and per offset in a
    block, then their products) instead of one exp per sample: 1.7x faster, and equal to the
    per-sample exp within a few ulp of complex128, below complex64's resolution."""
    m, block = len(x), 64
    inner = np.exp(-2j * np.pi * cfo * np.arange(block))
    outer = np.exp(-2j * np.pi * cfo * (n0 + block * np.arange(-(-m // block))))
    return (x * (outer[:, None] * inner[None, :]).reshape(-1)[:m]).astype(np.complex64)


def ltf_timing(x: np.ndarray, guess: int, search: int = 48) -> tuple[int, float]:
    """Start of the first LTF body near ``guess`` in CFO-corrected ``x``.

    -> (index, normalised correlation quality in [0, 1])."""
    lo = max(0, guess - search)
    hi = min(len(x) - FFT_LEN - SYM_LEN, guess + search)
    if hi <= lo:
        return guess, 0.0
    ref = np.conj(LTF_TIME[::-1])
    seg = x[lo:hi + FFT_LEN + SYM_LEN]
    c = np.convolve(seg, ref, mode="valid")     # c[i] = sum x[lo+i+m] conj(L[m])
    score = np.abs(c[:hi - lo]) + np.abs(c[SYM_LEN:SYM_LEN + hi - lo])
    i = int(np.argmax(score))
    e = np.sqrt(np.sum(np.abs(seg[i:i + FFT_LEN]) ** 2) * np.sum(np.abs(LTF_TIME) ** 2))
    quality = float(np.abs(c[i]) / max(e, 1e-30))
    return lo + i, quality


def fine_cfo(x: np.ndarray, body0: int) -> float:
    """Residual CFO (cycles/sample) from the two LTF bodies starting at ``body0``."""
    a = x[body0:body0 + FFT_LEN]
    b = x[body0 + SYM_LEN:body0 + SYM_LEN + FFT_LEN]
    return float(-np.angle(np.sum(a * np.conj(b))) / (2 * np.pi * SYM_LEN))
