"""Burst detection, carrier-offset and timing estimation (vectorised numpy on whole blocks).

Two stages, both normalised (scale-free), so their false-alarm rates on noise hold at any
input level:

1. Trigger: the delay-and-correlate metric of the 8-periodic STF over almost all of it,
   ``M[n] = |P[n]|^2 / (E1[n] E2[n])`` with ``P[n] = sum_{m<W} x[n+m] conj(x[n+m+8])``,
   ``W`` = 144: ``M`` is near ``(s/(1+s))^2`` on a preamble at time-domain SNR ``s`` (0.11 at
   -2 dB) and, on noise alone, exponential with mean ``1/W`` (P(M > t) ~ exp(-W t)). The
   threshold (0.04, on the metric every 8 samples, 2 in a row) lets about 100 triggers per
   million noise samples through (each costs one stage-2 check, ~0.1 ms); the peak of ``M``
   after a trigger gives the STF start to 8 samples.
2. Confirm: cross-correlation with the known LTF after the coarse CFO correction, summed over
   both LTF copies: ``q = (|c1|^2 + |c2|^2) / (|L|^2 (E1 + E2))``, about ``s/(1+s)`` (0.34 at
   -2 dB) at the LTF and Gamma(2, 1/128) on noise (P(q > 0.12) = 4e-6 per lag). Its peak is
   the timing (backed off a few samples into the cyclic prefix).

CFO in steps (:func:`stf_cfo`), each inside the previous one's unambiguous range: over the
STF from the metric's peak, lags 8 (+-fs/16), 16, 32 and 64 (+-fs/128; the lag-8 angle alone
is off by 4.6 kHz RMS at -2 dB, enough to lose the LTF); lag 64 again over the STF once the
LTF has fixed its position; then the two LTF copies 80 samples apart (+-fs/160).
"""

from __future__ import annotations

import cmath

import numpy as np

from semcom.numerology import CP_LEN, FFT_LEN, STF_PERIOD, SYM_LEN, sync_words

WINDOW = 144            # autocorrelation window (samples): the STF's 160 less lag and slack
THRESHOLD = 0.04        # trigger threshold on M (noise alone: exponential, mean 1/WINDOW)
MIN_RUN_STRIDED = 2     # strided values (every STRIDE samples) above threshold in a row
MIN_RUN = 8             # ... the samples they span (the detector's scans overlap by this)
PEAK_SPAN = WINDOW + 24  # after a trigger, the metric's peak is searched this far on
MIN_LTF_QUALITY = 0.12  # confirmation threshold on q (noise: 4e-6 per lag; -2 dB: ~0.34)
TIMING_BACKOFF = 3      # samples into the cyclic prefix
STF_LEN = 2 * SYM_LEN
LTF_BODY0 = 2 * SYM_LEN + CP_LEN        # offset of the first LTF body from the burst start
MID_LAG = 64            # the CFO step's lag inside the STF once its position is known
CFO_LAGS = (16, 32, 64)  # the lags after lag 8 at the metric's peak
CFO_SPAN = 144          # samples of the STF the peak's CFO steps use


def _ltf_time() -> np.ndarray:
    ltf = np.asarray(sync_words()[2])
    return np.fft.ifft(np.fft.ifftshift(ltf)).astype(np.complex64) * FFT_LEN


LTF_TIME = _ltf_time()
_LTF_ENERGY = float(np.sum(np.abs(LTF_TIME.astype(np.complex128)) ** 2))


STRIDE = STF_PERIOD      # the trigger's metric is evaluated every STRIDE samples


def strided_metric(x: np.ndarray, window: int = WINDOW, lag: int = STF_PERIOD,
                   stride: int = STRIDE) -> np.ndarray:
    """The trigger's ``M`` at starts 0, stride, 2 stride, ... (``window`` and ``lag`` multiples
    of ``stride``): products and energies summed per block of ``stride`` samples first, so the
    float64 running sums run over len(x)/stride values (3x less work than every sample; the
    metric changes little within 8 samples of a 144-sample window; the STF position it gives,
    to a stride, is refined by the LTF correlation)."""
    nb = (len(x) - lag) // stride
    wb, lb = window // stride, lag // stride
    k = nb - wb - lb + 1
    if k <= 0:
        return np.zeros(0)
    m = nb * stride
    prod = (x[:m] * np.conj(x[lag:lag + m])).reshape(nb, stride).sum(axis=1)
    cs = np.zeros(nb + 1, np.complex128)
    np.cumsum(prod, out=cs[1:])
    P = cs[wb:wb + k] - cs[:k]
    xe = x[:m + lag]
    sq = (xe.real * xe.real + xe.imag * xe.imag).reshape(-1, stride).sum(axis=1)
    e = np.zeros(len(sq) + 1)
    np.cumsum(sq, out=e[1:])
    E1 = e[wb:wb + k] - e[:k]
    E2 = e[wb + lb:wb + lb + k] - e[lb:lb + k]
    return (P.real * P.real + P.imag * P.imag) / np.maximum(E1 * E2, 1e-30)


def find_burst(M: np.ndarray, start: int = 0, threshold: float = THRESHOLD,
               min_run: int = MIN_RUN) -> int | None:
    """Index of the first sample at or after ``start`` that begins ``min_run`` consecutive
    metric values above ``threshold``; None if there is none."""
    above = M[start:] > threshold
    if not above.any():
        return None
    if min_run == 2:                    # the strided trigger: one vectorised AND
        hits = np.flatnonzero(above[:-1] & above[1:])
        return None if hits.size == 0 else start + int(hits[0])
    # run lengths via a sliding sum
    cs = np.concatenate([[0], np.cumsum(above, dtype=np.int64)])
    runs = cs[min_run:] - cs[:-min_run]
    hits = np.flatnonzero(runs == min_run)
    return None if hits.size == 0 else start + int(hits[0])


def stf_cfo(x: np.ndarray, start: int, cfo: float, lags=CFO_LAGS,
            span: int = CFO_SPAN) -> float:
    """Refine the lag-8 CFO ``cfo`` (cycles/sample) with longer lags over ``x[start:start +
    span]`` (8-periodic where an STF is): each lag's angle, less the current estimate's
    rotation, corrects it within +-1/(2 lag)."""
    seg = x[start:start + span]
    for lag in lags:
        if len(seg) <= lag:
            break
        p = np.vdot(seg[lag:], seg[:-lag]) * np.exp(2j * np.pi * cfo * lag)
        cfo += -cmath.phase(p) / (2 * np.pi * lag)
    return cfo


def rotate(x: np.ndarray, cfo: float, n0: int = 0) -> np.ndarray:
    """Remove a CFO of ``cfo`` cycles/sample (sample ``i`` of ``x`` has absolute index n0+i).

    The phasor is built from 64-sample blocks (one exp per block start and per offset in a
    block, then their products, in complex64) instead of one exp per sample: equal to the
    per-sample exp within complex64's resolution (each block start is exact in float64, so
    no error accumulates along the block)."""
    m, block = len(x), 64
    inner = np.exp(-2j * np.pi * cfo * np.arange(block)).astype(np.complex64)
    outer = np.exp(-2j * np.pi * cfo * (n0 + block * np.arange(-(-m // block))))
    ph = (outer.astype(np.complex64)[:, None] * inner[None, :]).reshape(-1)[:m]
    return np.multiply(x, ph, dtype=np.complex64)


def ltf_timing(x: np.ndarray, guess: int, search: int = 48) -> tuple[int, float]:
    """Start of the first LTF body near ``guess`` in CFO-corrected ``x``.

    -> (index, normalised correlation over both LTF copies ``q`` in [0, 1])."""
    lo = max(0, guess - search)
    hi = min(len(x) - FFT_LEN - SYM_LEN, guess + search)
    if hi <= lo:
        return guess, 0.0
    ref = np.conj(LTF_TIME[::-1])
    seg = x[lo:hi + FFT_LEN + SYM_LEN]
    c = np.convolve(seg, ref, mode="valid")     # c[i] = sum x[lo+i+m] conj(L[m])
    c2 = c.real * c.real + c.imag * c.imag
    score = c2[:hi - lo] + c2[SYM_LEN:SYM_LEN + hi - lo]
    i = int(np.argmax(score))
    sq = seg.real.astype(np.float64) ** 2 + seg.imag.astype(np.float64) ** 2
    e = float(sq[i:i + FFT_LEN].sum() + sq[i + SYM_LEN:i + SYM_LEN + FFT_LEN].sum())
    quality = float(score[i] / max(e * _LTF_ENERGY, 1e-30))
    return lo + i, quality
