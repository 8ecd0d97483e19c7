"""The product's one SNR convention, shared by simulation, emulator and estimator.

SNR is the average energy of a transmitted JSCC symbol over the complex noise power on that
symbol after demodulation (AWGN): the encoder emits symbols with unit average power over the
symbols actually sent, so at ``snr_db`` the complex noise on each symbol has variance
``10 ** (-snr_db / 10)`` (``noise_var`` below), i.e. ``noise_var / 2`` per real dimension.
``semcom eval --snr 15`` and ``semcom loopback --snr 15`` mean the same thing.
"""

from __future__ import annotations

CONVENTION = ("Es/N0 per JSCC symbol: average energy of a transmitted (unit-power) JSCC symbol "
              "over the complex noise power on that symbol after demodulation")


def db_to_lin(db: float) -> float:
    return 10.0 ** (db / 10.0)


def noise_var(snr_db: float, signal_power: float = 1.0) -> float:
    """Complex noise variance E|n|^2 on one symbol of power ``signal_power`` at ``snr_db``."""
    return signal_power / db_to_lin(snr_db)
