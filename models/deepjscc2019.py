"""The 2019 deep JSCC architecture (Bourtsoulatze, Kurka, Gunduz, IEEE TCCN 2019).

Five 5x5 conv layers with PReLU (two with stride 2, so H/4), 16/32/32/32 filters, then ``c``
real filters = ``c/2`` complex channels; the decoder mirrors it with transposed convs and a
sigmoid. It takes no SNR input: the SNR and keep arguments are accepted and ignored, which is
what makes it the non-adaptive baseline. ``c = 16`` gives the 1/6 ratio (8 complex channels at
H/4: 8 / 48).
"""

from __future__ import annotations

import torch
from torch import nn

from models.base import JSCCModel
from models.registry import register_model


def _conv(cin, cout, stride):
    return [nn.Conv2d(cin, cout, 5, stride=stride, padding=2), nn.PReLU(cout)]


def _tconv(cin, cout, stride):
    return [nn.ConvTranspose2d(cin, cout, 5, stride=stride, padding=2,
                               output_padding=stride - 1), nn.PReLU(cout)]


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.net = nn.Sequential(*_conv(3, 16, 2), *_conv(16, 32, 2), *_conv(32, 32, 1),
                                 *_conv(32, 32, 1), *_conv(32, c, 1))

    def forward(self, x, snr, keep):
        return self.net(x)


class _Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.net = nn.Sequential(*_tconv(c, 32, 1), *_tconv(32, 32, 1), *_tconv(32, 32, 1),
                                 *_tconv(32, 16, 2), nn.ConvTranspose2d(16, 3, 5, stride=2,
                                                                        padding=2,
                                                                        output_padding=1))

    def forward(self, y, snr, keep, noise_var=None):
        return torch.sigmoid(self.net(y))


@register_model("deepjscc2019", "Deep JSCC 2019 (Bourtsoulatze et al.), non-adaptive baseline")
class DeepJSCC2019(JSCCModel):
    """Deep JSCC 2019 (Bourtsoulatze et al.), non-adaptive baseline."""

    down = 4

    def __init__(self, C: int = 8):
        super().__init__()
        self.C = int(C)
        self.encoder_net = _Encoder(2 * self.C)
        self.decoder_net = _Decoder(2 * self.C)

    def config(self) -> dict:
        return {"C": self.C}
