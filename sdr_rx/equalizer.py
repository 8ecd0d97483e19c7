"""Channel estimation, pilot phase tracking, MMSE equalisation and noise/SNR estimates.

All on whole frames with numpy. Frequency vectors are fft-shifted (carrier ``k`` at ``k+32``).

1. LTF: ``H = (Y1 + Y2) / 2 / L`` on the 52 used carriers; noise variance from
   ``|Y1 - Y2|^2 / 2`` (the two copies differ only by noise).
2. Header: pilots give each OFDM symbol's common phase; soft BPSK values
   ``Re(conj(H) Y e^{-j phi}) / sigma^2`` go to the Viterbi decoder.
3. Once the header's CRC holds, its 480 BPSK symbols are known: ``H`` and ``sigma^2`` are
   re-estimated from LTF + header (12 known symbols per carrier), which is what the payload
   uses and what the SNR estimate reports.
4. Payload: per-symbol pilot phase, MMSE ``conj(H) Y / (|H|^2 + s2)``, then scaled by
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


def fft_symbols(x: np.ndarray, body0: int, n: int) -> np.ndarray:
    """``n`` OFDM symbols whose first body starts at ``body0`` -> (n, 64) shifted spectra."""
    idx = body0 + np.arange(n)[:, None] * nm.SYM_LEN + np.arange(nm.FFT_LEN)[None, :]
    return np.fft.fftshift(np.fft.fft(x[idx], axis=1), axes=1)


@dataclass
class ChannelEstimate:
    H: np.ndarray          # (52,) complex, used carriers
    noise_var: float       # per-carrier complex noise variance (same scale as H)
    n_obs: int             # known symbols per carrier behind H

    @property
    def snr_db(self) -> float:
        sig = float(np.mean(np.abs(self.H[DATA_IN_USED]) ** 2))
        return 10 * np.log10(max(sig, 1e-30) / max(self.noise_var, 1e-30))


def estimate_ltf(Y_ltf: np.ndarray) -> ChannelEstimate:
    y1, y2 = Y_ltf[0, USED], Y_ltf[1, USED]
    H = (y1 + y2) / 2 / LTF
    nv = float(np.mean(np.abs(y1 - y2) ** 2) / 2)
    return ChannelEstimate(H, nv, 2)


def pilot_phases(Y: np.ndarray, H: np.ndarray, first_symbol: int) -> np.ndarray:
    """Common phase of each OFDM symbol from its pilots. ``first_symbol`` is the index of
    ``Y[0]`` counted from the first header symbol (it selects the pilot polarity)."""
    pol = nm.pilot_polarity(first_symbol + len(Y))[first_symbol:]
    ref = H[PILOT_IN_USED][None, :] * PILOT_VALUES[None, :] * pol[:, None]
    return np.angle(np.sum(Y[:, PILOT] * np.conj(ref), axis=1))


def header_soft(Y_hdr: np.ndarray, est: ChannelEstimate) -> tuple[np.ndarray, np.ndarray]:
    """-> (480 soft BPSK values, phases) for the header symbols."""
    ph = pilot_phases(Y_hdr, est.H, 0)
    Yc = Y_hdr * np.exp(-1j * ph)[:, None]
    soft = np.real(np.conj(est.H[DATA_IN_USED])[None, :] * Yc[:, DATA]) / est.noise_var
    return soft.reshape(-1), ph


def refine(Y_ltf: np.ndarray, Y_hdr: np.ndarray, hdr_phases: np.ndarray,
           hdr_symbols: np.ndarray) -> ChannelEstimate:
    """Re-estimate H on all used carriers and the noise from LTF + known header symbols.

    Data carriers use 12 known symbols (2 LTF + 10 header), pilots too (their values are
    known); the noise comes from the residuals with the degrees of freedom corrected.
    """
    nh = len(Y_hdr)
    Yc = Y_hdr * np.exp(-1j * hdr_phases)[:, None]
    X = np.zeros((nh, len(USED)), complex)
    X[:, DATA_IN_USED] = hdr_symbols.reshape(nh, nm.N_DATA)
    pol = nm.pilot_polarity(nh)
    X[:, PILOT_IN_USED] = PILOT_VALUES[None, :] * pol[:, None]
    Yall = np.vstack([Y_ltf[:, USED], Yc[:, USED]])
    Xall = np.vstack([LTF[None, :], LTF[None, :], X])
    H = np.sum(Yall * np.conj(Xall), axis=0) / np.sum(np.abs(Xall) ** 2, axis=0)
    resid = Yall - H[None, :] * Xall
    n = Yall.shape[0]
    nv = float(np.mean(np.abs(resid) ** 2) * n / (n - 1))
    return ChannelEstimate(H, nv, n)


def equalize_payload(Y_pay: np.ndarray, est: ChannelEstimate, first_symbol: int):
    """-> (symbols (n, 48) complex, error variance (n, 48), phases (n,))."""
    ph = pilot_phases(Y_pay, est.H, first_symbol)
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
