"""Building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn


class AFModule(nn.Module):
    """Attention-feature modulation (ADJSCC, Xu et al. 2021), extended with the keep ratio.

    ``(B, N, h, w)`` features, SNR in dB ``(B,)`` and keep/C ``(B,)`` -> features scaled per
    channel by a sigmoid gate computed from their global mean and the side information.
    """

    def __init__(self, channels: int, hidden: int | None = None, snr_scale: float = 25.0):
        super().__init__()
        hidden = hidden or max(16, channels // 2)
        self.snr_scale = snr_scale
        self.mlp = nn.Sequential(
            nn.Linear(channels + 2, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels), nn.Sigmoid(),
        )

    def forward(self, x, snr_db, keep_frac):
        side = torch.stack([snr_db / self.snr_scale, keep_frac], dim=1).to(x.dtype)
        gate = self.mlp(torch.cat([x.mean(dim=(2, 3)), side], dim=1))
        return x * gate[:, :, None, None]


class ResBlock(nn.Module):
    """3x3 conv -> PReLU -> 3x3 conv, plus the input."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)


def down_conv(cin: int, cout: int, k: int = 3) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=2, padding=k // 2), nn.PReLU(cout))


def up_conv(cin: int, cout: int) -> nn.Module:
    """Sub-pixel upsampling by 2 (3x3 conv to 4*cout, pixel shuffle)."""
    return nn.Sequential(nn.Conv2d(cin, 4 * cout, 3, padding=1), nn.PixelShuffle(2),
                         nn.PReLU(cout))
