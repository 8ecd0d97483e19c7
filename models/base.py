"""What every JSCC architecture shares: symbol layout, pruning, power normalisation.

Tensor conventions (all batch-first):

- image: float ``(B, 3, H, W)`` in ``[0, 1]``, H and W multiples of ``model.down``
  (:mod:`models.codec` pads and crops any size).
- symbols: complex64 ``(B, C, H/down, W/down)``: channel ``c`` of the latent is one "latent
  channel" of complex symbols; channels are ordered by importance and only the first ``keep``
  are sent. The encoder returns zeros beyond ``keep`` and unit average power over the kept
  symbols of each image (so SNR does not drift with ``keep``).
- snr_db: float ``(B,)``; keep: int ``(B,)`` in ``1..C``.
"""

from __future__ import annotations

import torch
from torch import nn


def keep_mask(keep: torch.Tensor, channels: int) -> torch.Tensor:
    """(B,) int -> (B, C, 1, 1) float mask with ones on the first ``keep`` channels."""
    idx = torch.arange(channels, device=keep.device)
    return (idx[None, :] < keep[:, None]).float()[:, :, None, None]


def normalize_power(z: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Zero channels beyond ``keep`` and scale so the kept symbols have unit mean power.

    ``z``: complex ``(B, C, h, w)``. The mean is taken per image over the kept symbols only.
    """
    mask = keep_mask(keep, z.shape[1])
    z = z * mask
    n_kept = keep.to(torch.float32) * z.shape[2] * z.shape[3]
    power = (z.real ** 2 + z.imag ** 2).sum(dim=(1, 2, 3)) / n_kept
    return z / torch.sqrt(power + 1e-12)[:, None, None, None]


def as_batch(value, batch: int, dtype, device) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=dtype, device=device)
    if t.ndim == 0:
        t = t.expand(batch)
    return t


class JSCCModel(nn.Module):
    """Base class: subclasses build ``self.encoder_net`` / ``self.decoder_net`` and set the
    config attributes. ``C`` is the number of complex latent channels, ``down`` the spatial
    reduction, so an H x W image gives ``C * (H/down) * (W/down)`` complex symbols at full keep.
    """

    arch_name = "base"
    C: int
    down: int
    snr_range = (0.0, 25.0)
    side_bits = 0          # bits of side information per image (0: symbols only)

    def config(self) -> dict:
        raise NotImplementedError

    @property
    def ratio(self) -> float:
        """Bandwidth ratio at full keep: complex symbols per source value (pixel-colour)."""
        return self.C / (3 * self.down * self.down)

    def symbols_per_channel(self, height: int, width: int) -> int:
        d = self.down
        return ((height + d - 1) // d) * ((width + d - 1) // d)

    def _side(self, x, snr_db, keep):
        b = x.shape[0]
        snr = as_batch(snr_db, b, torch.float32, x.device)
        k = as_batch(self.C if keep is None else keep, b, torch.long, x.device)
        if bool(((k < 1) | (k > self.C)).any()):
            raise ValueError(f"keep must be in 1..{self.C}, got {k.tolist()}")
        return snr, k

    def encode(self, image: torch.Tensor, snr_db, keep=None) -> torch.Tensor:
        snr, k = self._side(image, snr_db, keep)
        real = self.encoder_net(image, snr, k)                     # (B, 2C, h, w)
        z = torch.complex(real[:, 0::2], real[:, 1::2])
        return normalize_power(z, k)

    def encode_side(self, image: torch.Tensor, snr_db, keep=None):
        """-> (symbols, side information or None). Architectures with side information
        (``side_bits`` > 0) return a dict that :meth:`pack_side` turns into bits."""
        return self.encode(image, snr_db, keep), None

    def decode(self, symbols: torch.Tensor, snr_db, keep=None,
               noise_var: torch.Tensor | None = None, side=None) -> torch.Tensor:
        """``symbols``: complex (B, C, h, w), anything beyond ``keep`` is ignored (zeroed).
        ``noise_var``: optional per-symbol noise variance (same shape, real) after
        equalisation; architectures that do not use it ignore it. ``side``: the side
        information (architectures without it ignore it)."""
        snr, k = self._side(symbols, snr_db, keep)
        symbols = symbols * keep_mask(k, self.C)
        real = torch.stack([symbols.real, symbols.imag], dim=2).flatten(1, 2)
        return self.decoder_net(real, snr, k, noise_var)

    def forward(self, image, snr_db, keep=None, channel=None):
        """Encode, pass through ``channel`` (a callable ``(symbols, snr) -> (y, nvar)``), decode."""
        snr, k = self._side(image, snr_db, keep)
        z, side = self.encode_side(image, snr, k)
        if channel is None:
            return self.decode(z, snr, k, None, side)
        y, nvar = channel(z, snr)
        return self.decode(y, snr, k, nvar, side)
