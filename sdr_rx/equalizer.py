"""Channel estimation, pilot phase tracking, MMSE equalisation and noise/SNR estimates.

All on whole frames with numpy. Frequency vectors are fft-shifted (carrier ``k`` at ``k+32``).

1. LTF: ``H = (Y1 + Y2) / 2 / L`` on the 52 used carriers, projected onto impulse responses
   of ``CIR_TAPS`` samples (less noise); noise variance from ``|Y1 - Y2|^2 / 2``.
2. Header: pilots give each OFDM symbol's common phase; soft BPSK values
   ``Re(conj(H) Y e^{-j phi}) / sigma^2`` go to the Viterbi decoder.
3. Once the header's CRC holds, its 480 BPSK symbols are known: ``H`` and ``sigma^2`` are
   re-estimated from LTF + header (12 known symbols per carrier, phases from all carriers),
   which is what the payload uses and what the SNR estimate reports.
4. Payload: pilot phases smoothed along a line through the header's phases (residual CFO)
   plus a moving average (slow phase noise), MMSE ``conj(H) Y / (|H|^2 + s2)``, then scaled by
   ``(|H|^2 + s2) / |H|^2`` on carriers whose SNR is at least 0 dB (unbiased MMSE: same SINR,
   no shrinkage, so a flat channel gives the decoder exactly what simulation's AWGN does);
   deeper-faded carriers keep the biased MMSE output. ``s2`` includes the channel-estimate
   error. Each payload symbol also gets its error variance.

SNR estimate (product convention): ``mean_k |H_k|^2 / sigma^2`` over the data carriers, the
average energy of a unit-power JSCC symbol over the noise on it after the FFT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def fft_symbols(x: np.ndarray, body0: int, n: int) -> np.ndarray:
    """``n`` OFDM symbols whose first body starts at ``body0`` -> (n, 64) shifted spectra."""
    idx = body0 + np.arange(n)[:, None] * nm.SYM_LEN + np.arange(nm.FFT_LEN)[None, :]
    return np.fft.fft(x[idx], axis=1)[:, _FFTSHIFT]


@dataclass
class ChannelEstimate:
    H: np.ndarray          # (52,) complex, used carriers
    noise_var: float       # per-carrier complex noise variance (same scale as H)
    n_obs: float           # effective known observations per carrier behind H

    @property
    def snr_db(self) -> float:
        sig = float(np.mean(np.abs(self.H[DATA_IN_USED]) ** 2))
        return 10 * np.log10(max(sig, 1e-30) / max(self.noise_var, 1e-30))


def estimate_ltf(Y_ltf: np.ndarray) -> ChannelEstimate:
    y1, y2 = Y_ltf[0, USED], Y_ltf[1, USED]
    H = PROJ @ ((y1 + y2) / 2 / LTF)
    nv = float(np.mean(np.abs(y1 - y2) ** 2) / 2)
    return ChannelEstimate(H, nv, 2 * nm.N_USED / CIR_TAPS)


def pilot_phases(Y: np.ndarray, H: np.ndarray, first_symbol: int) -> np.ndarray:
    """Common phase of each OFDM symbol from its pilots. ``first_symbol`` is the index of
    ``Y[0]`` counted from the first header symbol (it selects the pilot polarity)."""
    pol = _polarity(first_symbol, len(Y))
    ref = H[PILOT_IN_USED][None, :] * PILOT_VALUES[None, :] * pol[:, None]
    return np.angle(np.sum(Y[:, PILOT] * np.conj(ref), axis=1))


def header_soft(Y_hdr: np.ndarray, est: ChannelEstimate) -> tuple[np.ndarray, np.ndarray]:
    """-> (480 soft BPSK values, phases) for the header symbols."""
    ph = pilot_phases(Y_hdr, est.H, 0)
    Yc = Y_hdr * np.exp(-1j * ph)[:, None]
    soft = np.real(np.conj(est.H[DATA_IN_USED])[None, :] * Yc[:, DATA]) / est.noise_var
    return soft.reshape(-1), ph


def known_header_grid(hdr_symbols: np.ndarray) -> np.ndarray:
    """The header's known values on the 52 used carriers, (10, 52): data and pilots."""
    nh = len(hdr_symbols) // nm.N_DATA
    X = np.zeros((nh, len(USED)), complex)
    X[:, DATA_IN_USED] = hdr_symbols.reshape(nh, nm.N_DATA)
    X[:, PILOT_IN_USED] = PILOT_VALUES[None, :] * _polarity(0, nh)[:, None]
    return X


def refine(Y_ltf: np.ndarray, Y_hdr: np.ndarray, hdr_symbols: np.ndarray):
    """Re-estimate H and the noise from LTF + the known header symbols.

    Each header symbol's common phase is measured on all 52 known carriers (13 times less
    phase noise than the 4 pilots, which would otherwise inflate the noise estimate), then
    H is refitted from the 12 known symbols per carrier and the noise taken from the residuals
    with the degrees of freedom corrected. -> (ChannelEstimate, header phases).
    """
    X = known_header_grid(hdr_symbols)
    H0 = estimate_ltf(Y_ltf).H
    Yu = Y_hdr[:, USED]
    ph = np.angle(np.sum(Yu * np.conj(H0[None, :] * X), axis=1))
    Yc = Yu * np.exp(-1j * ph)[:, None]
    Yall = np.vstack([Y_ltf[:, USED], Yc])
    Xall = np.vstack([LTF[None, :], LTF[None, :], X])
    H = PROJ @ (np.sum(Yall * np.conj(Xall), axis=0) / np.sum(np.abs(Xall) ** 2, axis=0))
    resid = Yall - H[None, :] * Xall
    n_obs = resid.size
    n_par = CIR_TAPS + len(ph)           # complex parameters fitted to these observations
    nv = float(np.mean(np.abs(resid) ** 2) * n_obs / (n_obs - n_par))
    return ChannelEstimate(H, nv, Yall.shape[0] * nm.N_USED / CIR_TAPS), ph


def smooth_phases(ph_hdr: np.ndarray, ph_pay: np.ndarray, window: int = 9) -> np.ndarray:
    """Payload phases: a weighted line through the header phases (52 carriers each) and the
    payload's pilot phases (4 each) captures the residual CFO; the pilots' deviation from it,
    averaged over ``window`` symbols, follows slow phase noise. -> (n_payload,) phases."""
    nh, npay = len(ph_hdr), len(ph_pay)
    t = np.arange(nh + npay, dtype=float)
    raw = np.unwrap(np.concatenate([ph_hdr, ph_pay]))
    w = np.concatenate([np.full(nh, float(nm.N_USED)), np.full(npay, float(len(PILOT)))])
    A = np.stack([t, np.ones_like(t)], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A, raw * np.sqrt(w), rcond=None)
    line = coef[0] * t[nh:] + coef[1]
    dev = np.angle(np.exp(1j * (raw[nh:] - line)))
    k = min(window, npay)
    kern = np.ones(k)
    sm = np.convolve(dev, kern, mode="same") / np.convolve(np.ones(npay), kern, mode="same")
    return line + sm


def pilot_presence(Y_pay: np.ndarray, H: np.ndarray, first_symbol: int,
                   window: int = 4) -> float:
    """Smallest windowed pilot correlation over the payload: per OFDM symbol
    ``|sum Y_p conj(r_p)|^2 / (sum |Y_p|^2 sum |r_p|^2)`` (about s/(1+s) with the frame's signal
    there, 1/4 on noise or on another burst), averaged over ``window`` symbols. A burst cut
    short (a transmitter or channel restarted mid-frame) shows as a low value."""
    if not len(Y_pay):
        return 1.0
    pol = _polarity(first_symbol, len(Y_pay))
    ref = H[PILOT_IN_USED][None, :] * PILOT_VALUES[None, :] * pol[:, None]
    Yp = Y_pay[:, PILOT]
    num = np.abs(np.sum(Yp * np.conj(ref), axis=1)) ** 2
    den = np.sum(np.abs(Yp) ** 2, axis=1) * np.sum(np.abs(ref) ** 2, axis=1)
    rho = num / np.maximum(den, 1e-30)
    k = min(window, len(rho))
    return float(np.min(np.convolve(rho, np.ones(k) / k, mode="valid")))


def equalize_payload(Y_pay: np.ndarray, est: ChannelEstimate, first_symbol: int,
                     ph_hdr: np.ndarray | None = None):
    """-> (symbols (n, 48) complex, error variance (n, 48), phases (n,)).

    With the header's phases (``ph_hdr``) the pilot phases are smoothed
    (:func:`smooth_phases`); without, each symbol uses its own pilots."""
    ph = pilot_phases(Y_pay, est.H, first_symbol)
    if ph_hdr is not None and len(ph):
        ph = smooth_phases(ph_hdr, ph)
    Yc = Y_pay[:, DATA] * np.exp(-1j * ph)[:, None]
    Hd = est.H[DATA_IN_USED]
    g2 = np.abs(Hd) ** 2
    s2 = est.noise_var * (1.0 + 1.0 / est.n_obs)     # noise + channel-estimate error
    mmse = np.conj(Hd) / (g2 + s2)
    unbias = g2 >= s2
    gain = np.where(unbias, mmse * (g2 + s2) / np.maximum(g2, 1e-30), mmse)
    err = np.where(unbias, s2 / np.maximum(g2, 1e-30), s2 / (g2 + s2))
    X = Yc * gain[None, :]
    return X.astype(np.complex64), np.broadcast_to(err, X.shape).astype(np.float32), ph
