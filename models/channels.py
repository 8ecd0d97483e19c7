"""Differentiable channels for training and simulation, in the product's SNR convention.

Each channel is a callable ``(symbols, snr_db) -> (y, noise_var)``: ``symbols`` complex
``(B, C, h, w)`` with unit average power over the sent symbols, ``snr_db`` float ``(B,)``;
``y`` is what the decoder gets after demodulation and equalisation, ``noise_var`` the
per-symbol noise variance after equalisation (real, same shape). At ``snr_db`` the complex
noise added before equalisation has variance ``10 ** (-snr_db / 10)`` (:mod:`semcom.snr`).
"""

from __future__ import annotations

import torch

from semcom import numerology as nm
from semcom.numerology import CP_LEN, FFT_LEN
from semcom.profiles import profile_powers

DATA_CARRIERS = nm.N_DATA  # payload subcarriers per OFDM symbol (the PHY's numerology)


def _noise_var(snr_db: torch.Tensor) -> torch.Tensor:
    return (10.0 ** (-snr_db / 10.0))[:, None, None, None]


def _cnoise(shape, nv, generator=None, device=None):
    re = torch.randn(shape, generator=generator, device=device)
    im = torch.randn(shape, generator=generator, device=device)
    return torch.complex(re, im) * torch.sqrt(nv / 2.0)


class AWGN:
    """y = x + n, n ~ CN(0, 10^(-snr/10))."""

    name = "awgn"

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def __call__(self, x, snr_db):
        nv = _noise_var(snr_db)
        y = x + _cnoise(x.shape, nv, self.generator, x.device)
        return y, nv.expand(x.shape).clone()


class Rayleigh:
    """Flat Rayleigh block fading per image, h ~ CN(0, 1), perfect CSI, MMSE equalisation.

    SNR is the average (over fading) received SNR. Returns the MMSE estimate
    ``conj(h) y / (|h|^2 + nv)`` and its error variance ``nv / (|h|^2 + nv)``.
    """

    name = "rayleigh"

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def __call__(self, x, snr_db):
        b = x.shape[0]
        nv = _noise_var(snr_db)
        h = _cnoise((b, 1, 1, 1), torch.ones(()), self.generator, x.device)
        y = h * x + _cnoise(x.shape, nv, self.generator, x.device)
        g = h.conj() / (h.abs() ** 2 + nv)
        return g * y, (nv / (h.abs() ** 2 + nv)).expand(x.shape).clone()


class OFDMMultipath:
    """Multipath over OFDM: per image, random complex taps with a named power-delay profile;
    each symbol rides one of the PHY's 48 data subcarriers (``numerology.DATA_CARRIERS``;
    symbol ``i`` on carrier ``i mod 48``, so an interleaver spreads neighbours), per-subcarrier
    MMSE equalisation with perfect CSI. Energy of taps beyond the cyclic prefix becomes extra
    Gaussian noise (ISI).
    """

    def __init__(self, profile: str = "incp", generator: torch.Generator | None = None):
        self.name = profile
        self.generator = generator
        delays, powers = profile_powers(profile)
        self.delays = torch.as_tensor(delays)
        self.powers = torch.as_tensor(powers, dtype=torch.float32)
        # the PHY's data carriers (-26..26 without DC and the pilots), as FFT bins
        self.carriers = torch.tensor(nm.DATA_CARRIERS) % FFT_LEN
        self.isi = float(self.powers[self.delays > CP_LEN].sum())

    def __call__(self, x, snr_db):
        b = x.shape[0]
        dev = x.device
        nv = _noise_var(snr_db)
        ntaps = len(self.delays)
        taps = _cnoise((b, ntaps), self.powers[None].to(dev), self.generator, dev)
        inside = (self.delays <= CP_LEN).to(dev)
        taps_in = taps * inside
        k = self.carriers.to(dev).float()
        phase = -2j * torch.pi * k[None, :] * self.delays.to(dev).float()[:, None] / FFT_LEN
        H = taps_in @ torch.exp(phase)                                   # (B, 48)
        n_sym = x[0].numel()
        idx = torch.arange(n_sym, device=dev) % DATA_CARRIERS
        Hs = H[:, idx].reshape(x.shape)
        isi_var = (taps * ~inside).abs().pow(2).sum(dim=1)[:, None, None, None]
        nv_tot = nv + isi_var
        y = Hs * x + _cnoise(x.shape, nv_tot, self.generator, dev)
        g = Hs.conj() / (Hs.abs() ** 2 + nv_tot)
        return g * y, nv_tot / (Hs.abs() ** 2 + nv_tot)


def make_channel(name: str, generator: torch.Generator | None = None):
    """``awgn``, ``rayleigh`` or a multipath profile name (``incp``, ``long``)."""
    if name == "awgn":
        return AWGN(generator)
    if name == "rayleigh":
        return Rayleigh(generator)
    return OFDMMultipath(name, generator)
