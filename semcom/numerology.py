"""OFDM numerology shared by TX and RX (defined once, imported by both).

64-point FFT, 16-sample cyclic prefix, 52 used subcarriers (-26..26 without DC): 48 data and
4 pilots (+-7, +-21), as in 802.11a. At the default 1 MS/s a subcarrier is 15.625 kHz wide and
the CP lasts 16 us; at 5 MS/s 78 kHz and 3.2 us. Why: 64/16 keeps the FFT and per-frame numpy
cheap, survives indoor delay spreads at 1-5 MS/s, and the 8-sample periodic short preamble
lets the receiver estimate a carrier offset of up to +-fs/16 (+-62.5 kHz at 1 MS/s) without
calibration.

Frame on air (each OFDM symbol CP + 64 samples):

    STF x2 | LTF x2 | header (HEADER_SYMBOLS, BPSK, coded) | payload (analog JSCC) | guard

- STF: only every 8th subcarrier (+-8, +-16, +-24) is on, so the time signal repeats every 8
  samples (coarse CFO, detection).
- LTF: a known BPSK value on all 52 used carriers, sent twice (fine CFO over an 80-sample lag,
  channel and noise estimate).
- Pilots: BPSK ``PILOT_VALUES`` times a +-1 polarity sequence per OFDM symbol.

Power: every used subcarrier carries unit average power (the STF boosts its 6 carriers to keep
the symbol's power equal), so after the unnormalised IFFT the time-domain power is 52 per
sample; the TX scales it to ``tx_rms`` (RMS as a fraction of full scale).
"""

from __future__ import annotations

import numpy as np

FFT_LEN = 64
CP_LEN = 16
SYM_LEN = FFT_LEN + CP_LEN
PILOT_CARRIERS = (-21, -7, 7, 21)
PILOT_VALUES = (1.0, 1.0, 1.0, -1.0)
USED_CARRIERS = tuple(k for k in range(-26, 27) if k != 0)
DATA_CARRIERS = tuple(k for k in USED_CARRIERS if k not in PILOT_CARRIERS)
N_DATA = len(DATA_CARRIERS)    # 48
N_USED = len(USED_CARRIERS)    # 52
STF_CARRIERS = (-24, -16, -8, 8, 16, 24)
STF_PERIOD = 8
N_SYNC_SYMBOLS = 4             # STF, STF, LTF, LTF
HEADER_SYMBOLS = 20            # 960 BPSK symbols: the 480-bit coded header sent twice
DEFAULT_FRAME_SYMBOLS = 1920   # JSCC symbols per frame: 40 OFDM symbols
DEFAULT_GUARD = 400            # zero samples after each burst
DEFAULT_TX_RMS = 0.25          # RMS of the burst as a fraction of full scale (1.0)
LEN_TAG = "packet_len"
INTERLEAVER_SEED = 0x5E3C


def _seq(seed: int, n: int) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0)


def stf_freq() -> np.ndarray:
    """STF values on ``STF_CARRIERS`` (QPSK, boosted to 52/6 power each)."""
    rng = np.random.default_rng(0x57F)
    ph = rng.integers(0, 4, len(STF_CARRIERS))
    return np.sqrt(N_USED / len(STF_CARRIERS)) * np.exp(1j * (np.pi / 4 + np.pi / 2 * ph))


def ltf_freq() -> np.ndarray:
    """LTF BPSK values on ``USED_CARRIERS``."""
    return _seq(0x17F, N_USED)


def pilot_polarity(n_symbols: int) -> np.ndarray:
    """+-1 polarity of the pilots for OFDM symbols 0..n-1 after the sync symbols."""
    return _seq(0x9107, 127)[np.arange(n_symbols) % 127]


def shifted_index(k: int) -> int:
    """Carrier index (negative allowed) -> position in an fft-shifted vector (DC at 32)."""
    return k + FFT_LEN // 2


def sync_words() -> list[list[complex]]:
    """The four preamble symbols as fft-shifted frequency vectors (carrier allocator format)."""
    stf = np.zeros(FFT_LEN, complex)
    stf[[shifted_index(k) for k in STF_CARRIERS]] = stf_freq()
    ltf = np.zeros(FFT_LEN, complex)
    ltf[[shifted_index(k) for k in USED_CARRIERS]] = ltf_freq()
    return [list(stf), list(stf), list(ltf), list(ltf)]


def burst_samples(n_payload_symbols: int) -> int:
    """Samples of one burst (without guard) carrying ``n_payload_symbols`` JSCC symbols."""
    n_ofdm = N_SYNC_SYMBOLS + HEADER_SYMBOLS + -(-n_payload_symbols // N_DATA)
    return n_ofdm * SYM_LEN


def scale_for_rms(tx_rms: float) -> float:
    """Multiplier after the unnormalised IFFT that gives a burst RMS of ``tx_rms``."""
    return tx_rms / np.sqrt(N_USED)


def noise_voltage_for_snr(snr_db: float, tx_rms: float = DEFAULT_TX_RMS) -> float:
    """Time-domain complex noise std (``channels.channel_model``'s noise_voltage) that gives
    ``snr_db`` in the product convention (energy per JSCC symbol over noise on that symbol
    after the FFT) for a TX at ``tx_rms``.

    Per sample the burst has power ``tx_rms**2`` spread over 52 of 64 carriers; after the
    64-point FFT a carrier's symbol energy over its noise is ``tx_rms**2 * 64 / 52 / sigma**2``.
    """
    return float(np.sqrt(tx_rms ** 2 * FFT_LEN / N_USED / 10 ** (snr_db / 10)))


def time_domain_snr_db(snr_db: float) -> float:
    """The burst's time-domain SNR (signal power over noise power per sample) at ``snr_db``."""
    return snr_db + 10 * np.log10(N_USED / FFT_LEN)
