"""The LTF channel estimate on a channel with a fractional delay (every frame on a real radio:
the FFT window never falls on a whole sample of the transmitter's clock; a sample-rate offset
walks through every fraction). Measured against the true response on the used carriers."""

from __future__ import annotations

import numpy as np
import pytest

from sdr_rx import equalizer as eq


def _ltf(h: np.ndarray, snr_db: float, rng) -> np.ndarray:
    nv = 10 ** (-snr_db / 10)
    y = np.zeros((2, 64), complex)
    for i in range(2):
        y[i, eq.USED] = h * eq.LTF + np.sqrt(nv / 2) * (rng.standard_normal(52)
                                                         + 1j * rng.standard_normal(52))
    return y


def _delay(tau: float, rng) -> np.ndarray:
    return np.exp(-2j * np.pi * eq._K * tau / 64) * np.exp(1j * rng.uniform(0, 2 * np.pi))


@pytest.mark.parametrize("tau", [3.0, 3.25, 3.5, 2.6, 5.1, -0.4])
def test_delay_ramp_puts_the_channel_on_a_whole_sample(tau):
    h = _delay(tau, np.random.default_rng(1))
    shifted = h * eq.delay_ramp(h)
    # phase step per carrier (the DC gap is two carriers): -2 pi delay / 64
    slope = np.angle(shifted[1:] / shifted[:-1]) / np.diff(eq._K)
    assert np.ptp(slope) < 1e-9
    delay = -slope[0] * 64 / (2 * np.pi)
    assert abs(delay - round(delay)) < 1e-6
    assert abs(round(delay) - tau) <= 0.5 + 1e-9


@pytest.mark.parametrize("snr_db", [20.0, 30.0])
def test_fractional_delays_are_estimated_as_well_as_whole_ones(snr_db):
    # the ideal: the LTF's two symbols averaged (noise nv / 2) and projected on 8 taps of 52
    rng = np.random.default_rng(7)
    ideal = 10 * np.log10(10 ** (-snr_db / 10) / 2 * eq.SHORT_TAPS / 52)
    err, snr_est = [], []
    for tau in rng.uniform(2.5, 4.5, 300):
        h = _delay(tau, rng)
        est = eq.estimate_ltf(_ltf(h, snr_db, rng))
        err.append(np.mean(np.abs(est.H - h) ** 2))
        snr_est.append(est.snr_db)
    assert 10 * np.log10(np.mean(err)) < ideal + 1.0      # without the shift: 2-4 dB above
    assert abs(np.mean(snr_est) - snr_db) < 0.1


def test_header_refit_on_a_fractional_delay_reaches_its_22_symbols():
    # the re-estimation from LTF + the 20 known header symbols shifts the same way: its error
    # comes near that of 22 averaged symbols on 8 taps (the header phases and the measured
    # shift cost about 2 dB; without the shift the leak past the taps costs 8.5)
    from semcom import numerology as nm
    rng = np.random.default_rng(3)
    snr_db = 30.0
    nv = 10 ** (-snr_db / 10)
    ideal = 10 * np.log10(nv / 22 * eq.SHORT_TAPS / 52)
    err = []
    for tau in rng.uniform(2.5, 4.5, 50):
        h = _delay(tau, rng)
        ltf = _ltf(h, snr_db, rng)
        hdr = (rng.integers(0, 2, nm.HEADER_SYMBOLS * nm.N_DATA) * 2 - 1).astype(complex)
        X = eq.known_header_grid(hdr)
        y = np.zeros((len(X), 64), complex)
        y[:, eq.USED] = h[None, :] * X + np.sqrt(nv / 2) * (
            rng.standard_normal(X.shape) + 1j * rng.standard_normal(X.shape))
        est0 = eq.estimate_ltf(ltf)
        est, ph = eq.refine(ltf, y, hdr, est0.taps)
        assert np.all(np.abs(ph) < 0.05)
        err.append(np.mean(np.abs(est.H - h) ** 2))
    assert 10 * np.log10(np.mean(err)) < ideal + 3.0      # without the shift: +8.5 dB
