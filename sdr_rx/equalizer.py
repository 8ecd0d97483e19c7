"""Channel estimation, pilot phase tracking, MMSE equalisation and noise/SNR estimates.

All on whole frames with numpy. Frequency vectors are fft-shifted (carrier ``k`` at ``k+32``).

1. LTF: ``H = (Y1 + Y2) / 2 / L`` on the 52 used carriers, projected onto impulse responses
   of ``SHORT_TAPS`` samples when that fits (a test of the energy the longer projection adds
   against what noise alone adds: a flat or short channel gets 52/8 less estimation noise,
   which is what lets the header decode at -2 dB), else ``CIR_TAPS``; noise variance from
   ``|Y1 - Y2|^2 / 2``.
2. Header: the pilots of all header symbols give a phase line (residual CFO: slope from
   consecutive symbols, intercept from all) plus a windowed deviation (phase noise), so no
   symbol relies on its own 4 pilots; soft BPSK values ``Re(conj(H) Y e^{-j phi}) / sigma^2``
   go to the Viterbi decoder.
3. Once the header's CRC holds, its 960 BPSK symbols are known: ``H`` and ``sigma^2`` are
   re-estimated from LTF + header (22 known symbols per carrier, phases from all carriers),
   which is what the payload uses and what the SNR estimate reports.
4. Payload: a line through the header's phases (residual CFO) plus the payload pilots'
   deviation from it averaged over 9 symbols (slow phase noise), in the complex domain;
   MMSE ``conj(H) Y / (|H|^2 + s2)``, then scaled by
   ``(|H|^2 + s2) / |H|^2`` on carriers whose SNR is at least 0 dB (unbiased MMSE: same SINR,
   no shrinkage, so a flat channel gives the decoder exactly what simulation's AWGN does);
   deeper-faded carriers keep the biased MMSE output. ``s2`` includes the channel-estimate
   error. Each payload symbol also gets its error variance. The payload check
   (:func:`pilot_presence`) projects the pilots on their expected values over a window sized
   by the frame's SNR: only a frame whose signal stops (is truly cut) fails it.

SNR estimate (product convention): ``mean_k |H_k|^2 / sigma^2`` over the data carriers, the
average energy of a unit-power JSCC symbol over the noise on it after the FFT.
"""

from __future__ import annotations

import cmath
from dataclasses import dataclass

import numpy as np
import scipy.fft as sp_fft

from semcom import numerology as nm

USED = np.array([nm.shifted_index(k) for k in nm.USED_CARRIERS])
DATA = np.array([nm.shifted_index(k) for k in nm.DATA_CARRIERS])
PILOT = np.array([nm.shifted_index(k) for k in nm.PILOT_CARRIERS])
# positions of data / pilot carriers inside the 52-long USED vector
DATA_IN_USED = np.searchsorted(USED, DATA)
PILOT_IN_USED = np.searchsorted(USED, PILOT)
LTF = nm.ltf_freq()
PILOT_VALUES = np.asarray(nm.PILOT_VALUES)
CIR_TAPS = nm.CP_LEN + 8   # impulse-response length the estimate is constrained to
_POLARITY = nm.pilot_polarity(127)          # the sequence repeats every 127 symbols
_FFTSHIFT = np.fft.fftshift(np.arange(nm.FFT_LEN))


def _polarity(first_symbol: int, n: int) -> np.ndarray:
    """``nm.pilot_polarity(first_symbol + n)[first_symbol:]`` without redrawing it."""
    return _POLARITY[np.arange(first_symbol, first_symbol + n) % len(_POLARITY)]


def _cir_projection(taps: int = CIR_TAPS) -> np.ndarray:
    """Projection of a 52-carrier channel estimate onto responses of ``taps`` samples
    (least squares in the DFT basis): noise drops by 52/taps, the channel passes unchanged
    as long as its delay spread (plus the timing back-off) stays within ``taps``."""
    k = np.asarray(nm.USED_CARRIERS, dtype=float)
    F = np.exp(-2j * np.pi * np.outer(k, np.arange(taps)) / nm.FFT_LEN)
    return F @ np.linalg.pinv(F)


PROJ = _cir_projection()
NV_FLOOR = 1e-6           # noise variance at least this much of |H|^2: SNR estimates cap at 60 dB
SHORT_TAPS = 8             # a flat or short channel (the timing back-off is 3 samples)
PROJ_SHORT = _cir_projection(SHORT_TAPS)
# noise alone adds (CIR_TAPS - SHORT_TAPS) * nv / 2 to |(PROJ - PROJ_SHORT) H_ls|^2 (std a
# quarter of it): more than twice that means channel energy beyond SHORT_TAPS
_EXTRA_LIMIT = 2.0 * (CIR_TAPS - SHORT_TAPS) / 2


def fft_symbols(x: np.ndarray, body0: int, n: int) -> np.ndarray:
    """``n`` OFDM symbols whose first body starts at ``body0`` -> (n, 64) shifted spectra
    (scipy's FFT on a strided complex64 view: no index array, no float64 copy)."""
    start = body0 - nm.CP_LEN
    if start >= 0 and start + n * nm.SYM_LEN <= len(x):
        v = x[start:start + n * nm.SYM_LEN].reshape(n, nm.SYM_LEN)[:, nm.CP_LEN:]
    else:
        idx = body0 + np.arange(n)[:, None] * nm.SYM_LEN + np.arange(nm.FFT_LEN)[None, :]
        v = x[idx]
    return sp_fft.fft(v, axis=1)[:, _FFTSHIFT]


@dataclass
class ChannelEstimate:
    H: np.ndarray          # (52,) complex, used carriers
    noise_var: float       # per-carrier complex noise variance (same scale as H)
    n_obs: float           # effective known observations per carrier behind H
    taps: int = CIR_TAPS   # impulse-response length H was constrained to
    ramp: np.ndarray | None = None   # the whole-sample shift used (delay_ramp), for refine

    @property
    def snr_db(self) -> float:
        hd = self.H[DATA_IN_USED]
        sig = float(np.vdot(hd, hd).real) / len(hd)
        return 10 * np.log10(max(sig, 1e-30) / max(self.noise_var, 1e-30))


def _projection(taps: int) -> np.ndarray:
    return PROJ_SHORT if taps == SHORT_TAPS else PROJ


_K = np.asarray(nm.USED_CARRIERS, dtype=float)          # carrier index of each USED entry
_RAMP = 2j * np.pi * _K / nm.FFT_LEN
_LAG = 8                                                 # fine delay: carriers 8 apart
# the used carriers are two runs of consecutive indices (below and above DC): neighbour pairs
# and pairs _LAG apart are taken within each run, as slices (no index arrays)
_BREAKS = np.flatnonzero(np.diff(_K) != 1) + 1
_RUNS = [(int(a), int(b)) for a, b in zip(np.r_[0, _BREAKS], np.r_[_BREAKS, len(_K)],
                                          strict=True)]
assert len(_RUNS) == 2
_TWO_PI_N = 2 * np.pi / nm.FFT_LEN


def delay_ramp(h_ls: np.ndarray) -> np.ndarray:
    """``exp(j 2 pi k f / N)`` over the used carriers, ``f`` the fractional part of the
    channel's mean delay measured on the LS estimate (phase slope over carriers 1 apart, then
    8 apart for precision). Multiplying by it moves the channel onto a whole sample, where an
    impulse response of a few taps represents it exactly: a fractional delay (every frame on a
    real radio; a sample-rate offset) otherwise leaks past the taps the estimate is projected
    on and costs SNR at high SNR."""
    (a0, b0), (a1, b1) = _RUNS
    c1 = np.vdot(h_ls[a0:b0 - 1], h_ls[a0 + 1:b0]) + np.vdot(h_ls[a1:b1 - 1], h_ls[a1 + 1:b1])
    tau = -cmath.phase(c1) / _TWO_PI_N
    # refine on lag 8 around the coarse value (unambiguous within +-4 samples)
    c8 = np.vdot(h_ls[a0:b0 - _LAG], h_ls[a0 + _LAG:b0]) + \
        np.vdot(h_ls[a1:b1 - _LAG], h_ls[a1 + _LAG:b1])
    tau -= cmath.phase(c8 * cmath.exp(1j * _LAG * _TWO_PI_N * tau)) / (_LAG * _TWO_PI_N)
    return np.exp(_RAMP * (tau - round(tau)))


def estimate_ltf(Y_ltf: np.ndarray) -> ChannelEstimate:
    y1, y2 = Y_ltf[0, USED], Y_ltf[1, USED]
    h_ls = (y1 + y2) / 2 / LTF
    d = y1 - y2
    nv = float(np.vdot(d, d).real / len(d) / 2)
    nv = max(nv, NV_FLOOR * float(np.vdot(h_ls, h_ls).real) / len(h_ls))   # a clean input
    r = delay_ramp(h_ls)
    hr = h_ls * r
    H = PROJ @ hr
    Hs = PROJ_SHORT @ hr
    extra = H - Hs
    taps = CIR_TAPS
    if np.vdot(extra, extra).real <= _EXTRA_LIMIT * nv:
        H, taps = Hs, SHORT_TAPS
    return ChannelEstimate(H * np.conj(r), nv, 2 * nm.N_USED / taps, taps, r)


def pilot_corr(Y: np.ndarray, H: np.ndarray, first_symbol: int) -> np.ndarray:
    """Each OFDM symbol's pilots correlated with what they should be (complex, one per
    symbol). ``first_symbol`` is the index of ``Y[0]`` counted from the first header symbol
    (it selects the pilot polarity)."""
    hp = np.conj(H[PILOT_IN_USED] * PILOT_VALUES)
    return (Y[:, PILOT] @ hp) * _polarity(first_symbol, len(Y))


def pilot_phases(Y: np.ndarray, H: np.ndarray, first_symbol: int) -> np.ndarray:
    """Common phase of each OFDM symbol from its own pilots."""
    return np.angle(pilot_corr(Y, H, first_symbol))


def header_phases(Y_hdr: np.ndarray, H: np.ndarray, window: int = 9) -> np.ndarray:
    """Common phase of each header symbol from the pilots of all of them: a line (slope from
    consecutive symbols' pilot correlations, intercept from all) plus each symbol's deviation
    from it averaged over ``window`` symbols, all in the complex domain (no unwrapping, robust
    at -2 dB where one symbol's 4 pilots give a phase only to +-0.45 rad)."""
    n = len(Y_hdr)
    z = pilot_corr(Y_hdr, H, 0)
    slope = cmath.phase(np.vdot(z[:-1], z[1:])) if n > 1 else 0.0
    k = np.arange(n)
    zr = z * np.exp(-1j * slope * k)
    icpt = cmath.phase(zr.sum())
    w = min(window, n)
    dev = np.convolve(zr, np.ones(w), mode="same")           # the line's own rotation is out
    return slope * k + icpt + np.angle(dev * cmath.exp(-1j * icpt))


def header_soft(Y_hdr: np.ndarray, est: ChannelEstimate) -> tuple[np.ndarray, np.ndarray]:
    """-> (960 soft BPSK values, phases) for the header symbols."""
    ph = header_phases(Y_hdr, est.H)
    w = np.exp(-1j * ph)[:, None] * (np.conj(est.H[DATA_IN_USED]) / est.noise_var)[None, :]
    return (Y_hdr[:, DATA] * w).real.reshape(-1), ph


def known_header_grid(hdr_symbols: np.ndarray) -> np.ndarray:
    """The header's known values on the 52 used carriers, (10, 52): data and pilots."""
    nh = len(hdr_symbols) // nm.N_DATA
    X = np.zeros((nh, len(USED)))
    X[:, DATA_IN_USED] = hdr_symbols.real.reshape(nh, nm.N_DATA)
    X[:, PILOT_IN_USED] = PILOT_VALUES[None, :] * _polarity(0, nh)[:, None]
    return X


def refine(Y_ltf: np.ndarray, Y_hdr: np.ndarray, hdr_symbols: np.ndarray,
           taps: int = CIR_TAPS, ramp: np.ndarray | None = None):
    """Re-estimate H and the noise from LTF + the known header symbols.

    Each header symbol's common phase is measured on all 52 known carriers (13 times less
    phase noise than the 4 pilots, which would otherwise inflate the noise estimate), then
    H is refitted from the 22 known symbols per carrier and the noise taken from the residuals
    with the degrees of freedom corrected. ``taps``, ``ramp``: the impulse-response length and
    the whole-sample shift the LTF estimate chose (``ramp`` None: measured again).
    -> (ChannelEstimate, header phases).
    """
    X = known_header_grid(hdr_symbols)               # +-1 everywhere, as the LTF
    proj = _projection(taps)
    # known values are +-1: Y x = Y conj(x) / |x|^2, and |Y - H x| = |Y x - H|
    yl = Y_ltf[:, USED] * LTF[None, :]
    h_ls = (yl[0] + yl[1]) * 0.5
    r = delay_ramp(h_ls) if ramp is None else ramp   # the shift estimate_ltf chose
    H0 = np.conj(r) * (proj @ (h_ls * r))
    YX = Y_hdr[:, USED] * X
    z = YX @ np.conj(H0)
    ph = np.angle(z)
    W = YX * (np.conj(z) / np.maximum(np.abs(z), 1e-30))[:, None]   # phase removed
    # the least-squares H is the mean of Y x over the 2 + n known symbols
    H = np.conj(r) * (proj @ ((yl.sum(axis=0) + W.sum(axis=0)) * r / (2 + len(X))))
    r_l = yl - H[None, :]
    r_h = W - H[None, :]
    n_obs = r_l.size + r_h.size
    n_par = taps + len(ph)               # complex parameters fitted to these observations
    ss = float(np.vdot(r_l, r_l).real + np.vdot(r_h, r_h).real)
    nv = ss / (n_obs - n_par)
    nv = max(nv, NV_FLOOR * float(np.vdot(H, H).real) / len(H))
    return ChannelEstimate(H, nv, (2 + len(X)) * nm.N_USED / taps, taps), ph


def smooth_phases(ph_hdr: np.ndarray, z_pay: np.ndarray, window: int = 9) -> np.ndarray:
    """Payload phases: a line through the header phases (52 known carriers each; slope from
    consecutive symbols, intercept from all, in the complex domain) captures the residual CFO;
    the payload pilots' correlations ``z_pay`` (complex, one per symbol) derotated by that line
    and averaged over ``window`` symbols follow what the line misses (its extrapolation error,
    slow phase noise). No unwrapping: at -2 dB one symbol's 4 pilots give a phase only to
    +-0.45 rad. -> (n_payload,) phases."""
    nh, npay = len(ph_hdr), len(z_pay)
    e = np.exp(1j * np.asarray(ph_hdr))
    slope = cmath.phase(np.vdot(e[:-1], e[1:])) if nh > 1 else 0.0
    t = np.arange(nh)
    icpt = cmath.phase((e * np.exp(-1j * slope * t)).sum())
    line = slope * np.arange(nh, nh + npay) + icpt
    k = min(window, npay)
    dev = np.convolve(z_pay * np.exp(-1j * line), np.ones(k), mode="same")
    return line + np.angle(dev)


def pilot_presence(z: np.ndarray, H: np.ndarray, ph: np.ndarray,
                   snr: float) -> tuple[float, int]:
    """Is the frame's signal still there? Per payload symbol the pilots projected on what they
    should be (``z``: :func:`pilot_corr`), ``T = Re(z e^{-j phi}) / sum |H_p r_p|^2``: 1 with
    the frame's signal, about 0 on noise or on another burst. Averaged over a window long
    enough that noise moves it by less than 0.15 at the frame's (linear) ``snr`` (std
    ``1 / sqrt(2 * 4 * snr * window)``), 2..16 symbols. -> (smallest windowed mean, window);
    a frame cut short (a transmitter or channel restarted mid-frame) shows a value near 0
    where its signal stopped, an intact one stays near 1 (below 0.4 is 4 standard deviations
    away)."""
    n = len(z)
    if not n:
        return 1.0, 0
    t = np.real(z * np.exp(-1j * ph))
    hp = H[PILOT_IN_USED]
    t /= max(float(np.vdot(hp, hp).real), 1e-30)
    w = int(np.clip(np.ceil(1.0 / (2 * len(PILOT) * max(snr, 1e-3) * 0.15 ** 2)), 2, 16))
    w = min(w, n)
    cs = np.concatenate([[0.0], np.cumsum(t)])
    return float(np.min(cs[w:] - cs[:-w]) / w), w


def equalize_payload(Y_pay: np.ndarray, est: ChannelEstimate, first_symbol: int,
                     ph_hdr: np.ndarray | None = None):
    """-> (symbols (n, 48) complex, error variance (n, 48), phases (n,), pilot correlations
    (n,), :func:`pilot_corr`).

    With the header's phases (``ph_hdr``) the pilot phases are smoothed
    (:func:`smooth_phases`); without, each symbol uses its own pilots."""
    z = pilot_corr(Y_pay, est.H, first_symbol)
    ph = smooth_phases(ph_hdr, z) if ph_hdr is not None and len(z) else np.angle(z)
    Hd = est.H[DATA_IN_USED]
    g2 = Hd.real * Hd.real + Hd.imag * Hd.imag
    s2 = est.noise_var * (1.0 + 1.0 / est.n_obs)     # noise + channel-estimate error
    # MMSE conj(H) / (g2 + s2), unbiased (times (g2 + s2) / g2) where g2 >= s2: both are
    # conj(H) / den, and the error variance s2 / den
    inv = 1.0 / np.maximum(np.where(g2 >= s2, g2, g2 + s2), 1e-30)
    gain = np.conj(Hd) * inv
    err = s2 * inv
    # phase and gain as one (n, 48) complex64 factor, one product with the data carriers
    w = np.exp(-1j * ph).astype(np.complex64)[:, None] * gain.astype(np.complex64)[None, :]
    X = np.multiply(Y_pay[:, DATA], w, dtype=np.complex64)
    return X, np.broadcast_to(err.astype(np.float32), X.shape).copy(), ph, z
