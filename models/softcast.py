"""SoftCast (Jakubczak and Katabi, MobiCom 2011): a linear analog JSCC, and a learned refinement.

Encoder, per image (batched, runs on any torch device):

1. orthonormal colour transform (luma (R+G+B)/sqrt3 and two orthonormal chroma planes), the
   plane means removed and sent as side information;
2. whole-plane orthonormal 2-D DCT, each plane cut into a ``G x G`` grid of chunks (``G`` =
   ``down`` = 8, so a chunk holds ``H/8 x W/8`` coefficients: one latent channel's worth);
3. chunk variances (mean square), quantised to half-octave steps (side information); the
   ``2C`` highest-variance chunks of the ``3 G^2`` are the candidates, ordered by quantised
   variance (ties by index): channel ``c`` carries chunk ``2c`` on I and ``2c+1`` on Q, so
   ``keep`` means "the ``keep`` highest-variance chunk pairs";
4. a variance for every coefficient: its chunk's quantised variance times a fixed radial
   profile ``f^-alpha`` (``alpha`` = 2, the 1/f^2 spectrum of natural images; normalised to
   mean 1 in each chunk; ``alpha`` 0 is classic SoftCast's flat chunk), known to both ends
   without further side information;
5. power allocation over the coefficients of the ``2 keep`` sent chunks: the optimal linear
   allocation for LLSE decoding (Lee and Petersen 1976: water-filling on ``sqrt(variance)``)
   at the SNR the encoder is told, then one measured scale (side information) so the sent
   symbols have unit mean power exactly;
6. SoftCast's whitening: the sent real values, in strided blocks of 64 (block ``j`` holds
   values ``j, j + n/64, ...``, so it spans every channel), are multiplied by a 64-point
   Hadamard matrix with fixed random signs (orthonormal). Every channel symbol then has about
   unit power: no symbol carries a huge low-frequency coefficient, so errors that scale with
   the signal (channel-estimate error, clipping) spread evenly instead of hitting the most
   important coefficients (measured through the PHY at 15 dB: 1.3 dB lost without, 0.1 with).

The encoder can also predict an image's expected LLSE error at any keep and SNR exactly
(:meth:`SoftCast.expected_mse`: it knows every coefficient), which the per-image target policy
of the rate controller uses.

Decoder: inverse whitening (a coefficient's noise variance is the mean over its block, and a
lost symbol counts as noise of its unit power), LLSE per coefficient; unsent chunks
are estimated as their mean (zero); inverse DCT and colour transform. ``softcast`` has no
trainable weights. ``softcast_refine`` adds a small residual CNN at the receiver (pixel-
unshuffled to 1/``scale`` resolution for speed: 2 by default; 4 affords a wider, deeper net in
the same time) fed the LLSE image and the expected LLSE error per colour plane (from the
chunk variances, the gains, ``keep`` and the per-symbol noise variance), which carries the SNR
estimate and ``keep`` in the form that matters to it.

Side information (:meth:`SoftCast.pack_side`, ``side_bits`` bits, MSB first): 3 plane means
(10 bits each, uniform over ``[-1, 2)``), the amplitude scale (10 bits, 1/128
octave), a 192-bit mask of the candidate chunks, and their quantised log-variances (6 bits each,
half-octaves) in chunk-index order. It travels in its own frame (``semcom.sideinfo``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from models.base import JSCCModel
from models.registry import register_model

# orthonormal colour transform: rows are luma and two chroma directions
_COLOUR = torch.tensor([[1 / math.sqrt(3)] * 3,
                        [1 / math.sqrt(2), -1 / math.sqrt(2), 0.0],
                        [1 / math.sqrt(6), 1 / math.sqrt(6), -2 / math.sqrt(6)]])
MEAN_BITS, MEAN_LO, MEAN_HI = 10, -1.0, 2.0
SCALE_BITS, SCALE_STEPS = 10, 128        # log2 amplitude scale in 1/128 octave, offset 512
Q_BITS, Q_OFFSET = 6, 40                 # q = round(2 log2 var) + 40, var = 2^((q - 40) / 2)
MIX = 64                                 # whitening block (Hadamard size)
_DCT_CACHE: dict = {}
DCT_CACHE_SIZE = 8
_MIX_CACHE: dict = {}


def mix_matrix(device=None) -> torch.Tensor:
    """Orthonormal ``MIX x MIX`` whitening matrix: Sylvester Hadamard times fixed signs."""
    key = str(device)
    if key not in _MIX_CACHE:
        h = torch.ones(1, 1)
        while h.shape[0] < MIX:
            h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
        signs = torch.from_numpy(
            np.random.default_rng(0x50F7).integers(0, 2, MIX) * 2.0 - 1.0).float()
        _MIX_CACHE[key] = (h * signs[None, :] / MIX ** 0.5).to(device)
    return _MIX_CACHE[key]


def _blocks(n: int) -> int:
    return n // MIX


def whiten(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mix the sent values of each image: ``x`` (B, 2C, M) in send order, the first ``2 keep``
    rows sent. The tail that does not fill a block goes unmixed."""
    out = x.clone()
    q = mix_matrix(x.device)
    for i in range(x.shape[0]):
        v = x[i, :2 * int(keep[i])].reshape(-1)
        nb = _blocks(v.numel())
        if nb:
            mixed = (q @ v[:nb * MIX].reshape(MIX, nb)).reshape(-1)
            out[i, :2 * int(keep[i])] = torch.cat([mixed, v[nb * MIX:]]).reshape(-1, x.shape[2])
    return out


def unwhiten(y: torch.Tensor, s2: torch.Tensor, keep: torch.Tensor):
    """Inverse of :func:`whiten` on the received values and their noise variances (each
    coefficient gets the mean noise of its block)."""
    y, s2 = y.clone(), s2.clone()
    q = mix_matrix(y.device)
    for i in range(y.shape[0]):
        k2 = 2 * int(keep[i])
        v, n = y[i, :k2].reshape(-1), s2[i, :k2].reshape(-1)
        nb = _blocks(v.numel())
        if nb:
            un = (q.T @ v[:nb * MIX].reshape(MIX, nb)).reshape(-1)
            nm = n[:nb * MIX].reshape(MIX, nb).mean(0, keepdim=True).expand(MIX, nb).reshape(-1)
            y[i, :k2] = torch.cat([un, v[nb * MIX:]]).reshape(-1, y.shape[2])
            s2[i, :k2] = torch.cat([nm, n[nb * MIX:]]).reshape(-1, y.shape[2])
    return y, s2


def dct_matrix(n: int, device=None) -> torch.Tensor:
    """Orthonormal DCT-II matrix ``(n, n)``: ``X = D @ x``. The last few sizes are cached (a
    bounded cache: a receiver fed many image sizes must not grow without limit)."""
    key = (n, str(device))
    if key not in _DCT_CACHE:
        k = torch.arange(n, dtype=torch.float64)[:, None]
        i = torch.arange(n, dtype=torch.float64)[None, :]
        d = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
        d[0] /= math.sqrt(2.0)
        if len(_DCT_CACHE) >= DCT_CACHE_SIZE:
            _DCT_CACHE.pop(next(iter(_DCT_CACHE)))
        _DCT_CACHE[key] = d.float().to(device)
    return _DCT_CACHE[key]


def _bits(values: torch.Tensor, width: int) -> torch.Tensor:
    """int (B, n) -> uint8 bits (B, n * width), MSB first."""
    shifts = torch.arange(width - 1, -1, -1, device=values.device)
    return ((values[..., None] >> shifts) & 1).flatten(-2).to(torch.uint8)


def _ints(bits: torch.Tensor, width: int) -> torch.Tensor:
    """uint8 bits (B, n * width) -> int64 (B, n)."""
    b = bits.reshape(*bits.shape[:-1], -1, width).long()
    weights = 1 << torch.arange(width - 1, -1, -1, device=bits.device)
    return (b * weights).sum(-1)


class SideError(ValueError):
    """Side information that cannot belong to this model (wrong size or impossible values)."""


@register_model("softcast", "SoftCast: linear analog JSCC (DCT chunks, optimal power, LLSE); "
                            "no trainable weights")
class SoftCast(JSCCModel):
    """SoftCast: linear analog JSCC (DCT chunks, optimal power allocation, LLSE decoding)."""

    down = 8
    snr_range = (-5.0, 35.0)   # any SNR works for the linear backbone

    def __init__(self, C: int = 32, alpha: float = 2.0):
        super().__init__()
        self.C = int(C)
        self.alpha = float(alpha)
        self.grid = self.down
        self.n_chunks = 3 * self.grid * self.grid
        if not 1 <= self.C <= self.n_chunks // 2:
            raise ValueError(f"C must be in 1..{self.n_chunks // 2}")
        self.register_buffer("colour", _COLOUR.clone(), persistent=False)

    def config(self) -> dict:
        return {"C": self.C, "alpha": self.alpha}

    # ---- side information layout ----------------------------------------------------------
    @property
    def side_bits(self) -> int:
        return 3 * MEAN_BITS + SCALE_BITS + self.n_chunks + 2 * self.C * Q_BITS

    def pack_side(self, side: dict) -> torch.Tensor:
        """dict of int tensors (means (B,3), scale (B,), mask (B,n) bool, q (B,n)) -> bits."""
        b = side["means"].shape[0]
        qsel = side["q"][side["mask"]].reshape(b, 2 * self.C)    # chunk-index order
        return torch.cat([_bits(side["means"], MEAN_BITS),
                          _bits(side["scale"][:, None], SCALE_BITS),
                          side["mask"].to(torch.uint8),
                          _bits(qsel, Q_BITS)], dim=1)

    def unpack_side(self, bits: torch.Tensor) -> dict:
        """bits (B, side_bits) -> dict; raises SideError when they cannot be this model's."""
        bits = torch.as_tensor(bits)
        if bits.ndim == 1:
            bits = bits[None]
        if bits.shape[-1] != self.side_bits:
            raise SideError(f"side information of {bits.shape[-1]} bits, this model's has "
                            f"{self.side_bits}")
        p = 0
        means = _ints(bits[:, p:p + 3 * MEAN_BITS], MEAN_BITS)
        p += 3 * MEAN_BITS
        scale = _ints(bits[:, p:p + SCALE_BITS], SCALE_BITS)[:, 0]
        p += SCALE_BITS
        mask = bits[:, p:p + self.n_chunks].bool()
        p += self.n_chunks
        if bool((mask.sum(1) != 2 * self.C).any()):
            raise SideError(f"side information marks {mask.sum(1).tolist()} chunks, "
                            f"expected {2 * self.C}")
        qsel = _ints(bits[:, p:], Q_BITS)
        q = torch.zeros(mask.shape, dtype=torch.long, device=bits.device)
        q[mask] = qsel.flatten()
        return {"means": means, "scale": scale, "mask": mask, "q": q}

    # ---- transforms -----------------------------------------------------------------------
    def _analyse(self, x: torch.Tensor):
        """image (B,3,H,W) -> coefficient chunks (B, n, h*w) and plane means (B, 3)."""
        b, _, hh, ww = x.shape
        g = self.grid
        if hh % g or ww % g:
            raise ValueError(f"image {hh}x{ww}: sides must be multiples of {g}")
        y = torch.einsum("pc,bchw->bphw", self.colour.to(x.dtype), x)
        means = y.mean(dim=(2, 3))
        y = y - means[:, :, None, None]
        dh, dw = dct_matrix(hh, x.device), dct_matrix(ww, x.device)
        coef = dh @ y @ dw.T
        h, w = hh // g, ww // g
        chunks = coef.reshape(b, 3, g, h, g, w).permute(0, 1, 2, 4, 3, 5).reshape(b, -1, h * w)
        return chunks, means

    def _synthesise(self, chunks: torch.Tensor, means: torch.Tensor, hh: int, ww: int):
        b = chunks.shape[0]
        g = self.grid
        h, w = hh // g, ww // g
        coef = chunks.reshape(b, 3, g, g, h, w).permute(0, 1, 2, 4, 3, 5).reshape(b, 3, hh, ww)
        dh, dw = dct_matrix(hh, chunks.device), dct_matrix(ww, chunks.device)
        y = dh.T @ coef @ dw + means[:, :, None, None]
        return torch.einsum("pc,bphw->bchw", self.colour.to(y.dtype), y)

    @staticmethod
    def _quant_means(means):
        levels = 1 << MEAN_BITS
        step = (MEAN_HI - MEAN_LO) / levels
        return ((means - MEAN_LO) / step).floor().clamp(0, levels - 1).long()

    @staticmethod
    def _dequant_means(code):
        step = (MEAN_HI - MEAN_LO) / (1 << MEAN_BITS)
        return MEAN_LO + (code.float() + 0.5) * step

    @staticmethod
    def variance(q: torch.Tensor) -> torch.Tensor:
        return torch.exp2((q.float() - Q_OFFSET) / 2.0)

    def order(self, side: dict) -> torch.Tensor:
        """(B, 2C) chunk indices, highest quantised variance first (ties: lower index)."""
        n = self.n_chunks
        idx = torch.arange(n, device=side["q"].device)
        key = torch.where(side["mask"], side["q"] * (n + 1) + (n - idx), torch.full_like(
            side["q"], -1))
        return key.argsort(dim=1, descending=True)[:, :2 * self.C]

    def coef_variance(self, side: dict, order: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """Model variance of every sent coefficient ``(B, 2C, h*w)`` in send order: the
        chunk's quantised variance times a fixed within-chunk shape ``f^-alpha`` (radial
        frequency, normalised to mean 1 in each chunk; ``alpha`` 0 is classic SoftCast)."""
        vhat = self.variance(side["q"].gather(1, order))
        if not self.alpha:
            return vhat[:, :, None].expand(-1, -1, h * w)
        g = self.grid
        hh, ww = h * g, w * g
        fu = (torch.arange(hh, device=order.device) + 0.5) / hh
        fv = (torch.arange(ww, device=order.device) + 0.5) / ww
        f = torch.sqrt(fu[:, None] ** 2 + fv[None, :] ** 2)
        shape = f.pow(-self.alpha).reshape(g, h, g, w).permute(0, 2, 1, 3).reshape(g * g, -1)
        shape = shape / shape.mean(1, keepdim=True)
        return vhat[:, :, None] * shape[order % (g * g)]

    @staticmethod
    def waterfill(var: torch.Tensor, total: torch.Tensor, snr_db: torch.Tensor):
        """Optimal linear power allocation for LLSE decoding (Lee and Petersen): power per
        real coefficient ``p = max(0, sqrt(var s2) L - s2)`` with ``sum(p) = total``;
        ``var`` (B, N), 0 where nothing is sent; s2 the noise per real dimension."""
        s2 = (10.0 ** (-snr_db / 10.0) / 2.0)[:, None]
        vs, idx = var.sort(1, descending=True)
        r = torch.sqrt(vs * s2)
        m = torch.arange(1, vs.shape[1] + 1, device=var.device)[None, :].float()
        level = (total[:, None] + m * s2) / r.cumsum(1).clamp_min(1e-30)
        valid = (r * level > s2) & (vs > 0)
        m_star = (valid.float() * m).amax(1).clamp_min(1).long()
        lev = level.gather(1, (m_star - 1)[:, None])
        ps = (r * lev - s2).clamp_min(0) * (m <= m_star[:, None])
        return torch.zeros_like(ps).scatter_(1, idx, ps)

    def gains(self, side: dict, keep: torch.Tensor, snr_db: torch.Tensor, h: int, w: int):
        """-> (order (B, 2C), model variances and gains (B, 2C, h*w)), without the scale."""
        order = self.order(side)
        v = self.coef_variance(side, order, h, w)
        sent = (torch.arange(2 * self.C, device=v.device)[None, :] < 2 * keep[:, None])
        v_sent = (v * sent[:, :, None]).flatten(1)
        p = self.waterfill(v_sent, keep.float() * h * w, snr_db).reshape(v.shape)
        return order, v, torch.sqrt(p / v)

    # ---- encoder / decoder ----------------------------------------------------------------
    def _describe(self, image: torch.Tensor):
        """image -> (coefficient chunks (B, n, M), side dict with scale 0)."""
        chunks, means = self._analyse(image)
        b, n, hw = chunks.shape
        var = chunks.pow(2).mean(2)
        q = (2.0 * torch.log2(var.clamp_min(1e-30))).round().long() + Q_OFFSET
        q = q.clamp(0, (1 << Q_BITS) - 1)
        top = q.float() * (n + 1) + (n - torch.arange(n, device=q.device))
        mask = torch.zeros_like(q, dtype=torch.bool)
        mask.scatter_(1, top.argsort(1, descending=True)[:, :2 * self.C], True)
        q = q * mask              # only the candidates' variances travel (as unpack_side sees)
        side = {"means": self._quant_means(means), "mask": mask, "q": q,
                "scale": torch.zeros(b, dtype=torch.long, device=q.device)}
        return chunks, side

    def encode_side(self, image: torch.Tensor, snr_db, keep=None):
        """-> (symbols complex (B, C, h, w), side dict). ``snr_db`` should already be on the
        header's 0.25 dB grid (the decoder recomputes the gains from the header's value)."""
        snr, k = self._side(image, snr_db, keep)
        chunks, side = self._describe(image)
        b, n, hw = chunks.shape
        hh, ww = image.shape[-2:]
        h, w = hh // self.grid, ww // self.grid
        order, _, gain = self.gains(side, k, snr, h, w)
        x = chunks.gather(1, order[:, :, None].expand(-1, -1, hw)) * gain
        power = x.pow(2).sum((1, 2)) / (k.float() * hw)
        # measured scale to unit power, quantised (1/128 octave) so the decoder knows it exactly
        lg = torch.where(power > 1e-20, -0.5 * torch.log2(power.clamp_min(1e-30)),
                         torch.zeros_like(power))
        half = 1 << (SCALE_BITS - 1)
        code = (lg * SCALE_STEPS).round().clamp(-half, half - 1).long()
        side["scale"] = code + half
        x = x * torch.exp2(code.float() / SCALE_STEPS)[:, None, None]
        x = whiten(x, k).reshape(b, 2 * self.C, h, w)
        return torch.complex(x[:, 0::2], x[:, 1::2]), side

    @torch.no_grad()
    def expected_mse(self, image: torch.Tensor, snr_db: float, keeps) -> torch.Tensor:
        """Expected LLSE mean squared error per pixel-colour of one image ``(1, 3, H, W)``
        sent at ``snr_db`` (AWGN) with each of ``keeps``, over the noise only: the TX knows
        every coefficient, so this is exact for the linear decoder (before clipping and
        refinement): ``x^2 (a g - 1)^2 + a^2 s2`` per sent coefficient, ``x^2`` per unsent."""
        keeps = torch.as_tensor(list(keeps), dtype=torch.long, device=image.device)
        chunks, side = self._describe(image)
        _, n, hw = chunks.shape
        hh, ww = image.shape[-2:]
        # the send order and model variances do not depend on keep: sort once, then
        # water-fill every keep at once over the sorted values (a keep sends a prefix of
        # the chunks, i.e. a subset of the sorted values)
        order = self.order(side)
        v = self.coef_variance(side, order, hh // self.grid, ww // self.grid)[0].flatten()
        x = chunks[0].gather(0, order[0][:, None].expand(-1, hw)).flatten()
        vs, idx = v.sort(descending=True)
        xs = x[idx]
        s2 = 10.0 ** (-float(snr_db) / 10.0) / 2.0
        sent = (idx // hw)[None, :] < 2 * keeps[:, None]                 # (K, N)
        r = torch.sqrt(vs * s2)[None, :] * sent
        m = sent.float().cumsum(1)
        total_p = keeps.float()[:, None] * hw
        level = (total_p + m * s2) / r.cumsum(1).clamp_min(1e-30)
        valid = sent & (r * level > s2)
        j = torch.where(valid, m, torch.zeros_like(m)).argmax(1)          # largest active set
        lev = level.gather(1, j[:, None])
        p = (r * lev - s2).clamp_min(0) * sent * (m <= m.gather(1, j[:, None]))
        g = torch.sqrt(p / vs[None, :])
        power = (g * xs[None, :]).pow(2).sum(1) / total_p[:, 0]
        g = g / power.clamp_min(1e-30).sqrt()[:, None]
        a = g * vs / (g * g * vs + s2)
        err = torch.where(sent, xs * xs * (a * g - 1) ** 2 + a * a * s2, xs * xs)
        rest = chunks.pow(2).sum() - x.pow(2).sum()                      # never candidates
        return (err.sum(1) + rest) / (3 * hh * ww)

    def encode(self, image, snr_db, keep=None):
        return self.encode_side(image, snr_db, keep)[0]

    def llse(self, symbols, snr_db, keep, noise_var, side, with_mse: bool = True):
        """-> (image (B,3,H,W) unclipped, expected MSE per colour plane (B, 3), or None
        without ``with_mse``)."""
        snr, k = self._side(symbols, snr_db, keep)
        b, _, h, w = symbols.shape
        order, v, gain = self.gains(side, k, snr, h, w)
        gain = gain * torch.exp2((side["scale"].float() - (1 << (SCALE_BITS - 1))) /
                                 SCALE_STEPS)[:, None, None]
        y = torch.stack([symbols.real, symbols.imag], 2).reshape(b, 2 * self.C, h * w)
        if noise_var is None:
            nv = (10.0 ** (-snr / 10.0))[:, None, None, None].expand(b, self.C, h, w)
        else:
            nv = noise_var
        s2 = (nv / 2.0).repeat_interleave(2, dim=1).reshape(b, 2 * self.C, h * w)
        y, s2 = unwhiten(y, s2, k)
        g = gain
        est = g * v / (g * g * v + s2) * y
        chunks = torch.zeros(b, self.n_chunks, h * w, device=y.device)
        chunks.scatter_(1, order[:, :, None].expand(-1, -1, h * w), est)
        mse = None
        if with_mse:
            # expected error per plane: sent/candidate chunks from the LLSE, the rest from q
            err = v * s2 / (g * g * v + s2)                   # per coefficient, sent or not
            vall = self.variance(side["q"]) * (side["q"] > 0)
            errall = vall[:, :, None].expand(-1, -1, h * w).clone()
            errall.scatter_(1, order[:, :, None].expand(-1, -1, h * w), err)
            mse = errall.reshape(b, 3, -1).mean(2)
        hh, ww = h * self.grid, w * self.grid
        img = self._synthesise(chunks, self._dequant_means(side["means"]), hh, ww)
        return img, mse

    def decode(self, symbols, snr_db, keep=None, noise_var=None, side=None):
        if side is None:
            raise SideError("SoftCast needs its side information to decode")
        img, mse = self.llse(symbols, snr_db, keep, noise_var, side, self.uses_mse)
        return self.refine(img, mse)

    uses_mse = False          # the plain backbone needs no expected error

    def refine(self, img, mse):
        return img.clamp(0, 1)


class _Refiner(nn.Module):
    """Residual CNN at 1/``scale`` resolution: pixel-unshuffle ``scale``, ``depth`` 3x3 convs of
    ``width`` channels with the log expected error per plane as 3 extra input maps,
    pixel-shuffle. ``scale`` divides the chunk grid (8), so every image the backbone takes
    (sides multiples of 8) is a whole number of ``scale`` blocks."""

    def __init__(self, width: int, depth: int, scale: int = 2):
        super().__init__()
        self.scale = int(scale)
        if self.scale < 1 or SoftCast.down % self.scale:
            raise ValueError(f"refiner scale {scale}: must divide {SoftCast.down}")
        n = 3 * self.scale ** 2
        layers = [nn.Conv2d(n + 3, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers += [nn.Conv2d(width, n, 3, padding=1)]
        self.body = nn.Sequential(*layers)
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, img, mse):
        b, _, hh, ww = img.shape
        s = self.scale
        x = nn.functional.pixel_unshuffle(img, s)
        cond = (torch.log10(mse.clamp_min(1e-6)) + 3.0) / 2.0
        cond = cond[:, :, None, None].expand(b, 3, hh // s, ww // s)
        r = self.body(torch.cat([x * 2.0 - 1.0, cond], 1))
        return img + nn.functional.pixel_shuffle(r, s)


@register_model("softcast_refine", "SoftCast backbone + learned receiver refinement")
class SoftCastRefine(SoftCast):
    """SoftCast backbone plus a learned receiver refinement."""

    def __init__(self, C: int = 32, alpha: float = 2.0, width: int = 32, depth: int = 5,
                 scale: int = 2):
        super().__init__(C, alpha)
        self.width, self.depth, self.scale = int(width), int(depth), int(scale)
        self.refiner = _Refiner(self.width, self.depth, self.scale)

    def config(self) -> dict:
        return {"C": self.C, "alpha": self.alpha, "width": self.width, "depth": self.depth,
                "scale": self.scale}

    uses_mse = True           # the refinement is fed the expected error per plane

    def refine(self, img, mse):
        return self.refiner(img.clamp(0, 1), mse).clamp(0, 1)

