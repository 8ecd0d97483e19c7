"""The default architecture: SNR- and keep-adaptive, prunable deep JSCC ("afjscc").

Encoder: three stride-2 stages (H/2, H/4, H/8) with residual blocks and attention-feature (AF)
modules that take the channel SNR and the keep ratio, then a 3x3 conv to 2C real = C complex
latent channels at H/8. Decoder mirrors it with sub-pixel upsampling and a sigmoid output.
At C = 32 the full-keep bandwidth ratio is 32 / (3 * 64) = 1/6 complex symbol per pixel-colour.
"""

from __future__ import annotations

import torch
from torch import nn

from models.base import JSCCModel
from models.layers import AFModule, ResBlock, down_conv, up_conv
from models.registry import register_model


class _Encoder(nn.Module):
    def __init__(self, C, widths, blocks):
        super().__init__()
        w1, w2, w3 = widths
        self.C = C
        self.s1 = nn.Sequential(nn.Conv2d(3, w1, 5, stride=2, padding=2), nn.PReLU(w1))
        self.s2 = nn.Sequential(down_conv(w1, w2), *[ResBlock(w2) for _ in range(blocks[0])])
        self.af2 = AFModule(w2)
        self.s3 = nn.Sequential(down_conv(w2, w3), *[ResBlock(w3) for _ in range(blocks[1])])
        self.af3 = AFModule(w3)
        self.out = nn.Conv2d(w3, 2 * C, 3, padding=1)

    def forward(self, x, snr, keep):
        kf = keep.float() / self.C
        h = self.af2(self.s2(self.s1(x * 2.0 - 1.0)), snr, kf)
        h = self.af3(self.s3(h), snr, kf)
        return self.out(h)


class _Decoder(nn.Module):
    def __init__(self, C, widths, blocks):
        super().__init__()
        w1, w2, w3 = widths
        self.C = C
        self.inp = nn.Sequential(nn.Conv2d(2 * C, w3, 3, padding=1), nn.PReLU(w3))
        self.af0 = AFModule(w3)
        self.b3 = nn.Sequential(*[ResBlock(w3) for _ in range(blocks[1])])
        self.af3 = AFModule(w3)
        self.u2 = nn.Sequential(up_conv(w3, w2), *[ResBlock(w2) for _ in range(blocks[0])])
        self.af2 = AFModule(w2)
        self.u1 = up_conv(w2, w1)
        self.out = nn.Sequential(nn.Conv2d(w1, 12, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, y, snr, keep, noise_var=None):
        kf = keep.float() / self.C
        h = self.af0(self.inp(y), snr, kf)
        h = self.af3(self.b3(h), snr, kf)
        h = self.af2(self.u2(h), snr, kf)
        return torch.sigmoid(self.out(self.u1(h)))


@register_model("afjscc", "SNR- and keep-adaptive prunable deep JSCC (baseline)")
class AFJSCC(JSCCModel):
    """SNR- and keep-adaptive prunable deep JSCC (baseline)."""

    down = 8

    def __init__(self, C: int = 32, widths=(48, 96, 128), blocks=(1, 2)):
        super().__init__()
        self.C, self.widths, self.blocks = int(C), tuple(widths), tuple(blocks)
        self.encoder_net = _Encoder(self.C, self.widths, self.blocks)
        self.decoder_net = _Decoder(self.C, self.widths, self.blocks)

    def config(self) -> dict:
        return {"C": self.C, "widths": list(self.widths), "blocks": list(self.blocks)}
