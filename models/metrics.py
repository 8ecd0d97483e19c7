"""Image quality: PSNR and SSIM on uint8 RGB images (or float tensors in [0, 1])."""

from __future__ import annotations

import numpy as np
import torch


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 (H, W, 3) images (peak 255); inf when identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


SSIM_SIGMA = 1.5
SSIM_RADIUS = 5            # int(3.5 sigma + 0.5): skimage's Gaussian window, 11 taps


def _ssim_window() -> torch.Tensor:
    x = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float32)
    g = torch.exp(-0.5 * (x / SSIM_SIGMA) ** 2)
    return g / g.sum()


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two uint8 (H, W, 3) images: Wang et al. 2004 with a Gaussian window
    (sigma 1.5, 11 taps), per colour plane, averaged over the positions the whole window
    covers, then over the planes: ``skimage.metrics.structural_similarity(a, b,
    channel_axis=2, data_range=255, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` to 1e-5 (float32). Computed with torch's separable convolutions,
    which release the GIL (scikit-image's holds it for tens of ms per 256x256 image, stalling a
    receiver's PHY thread in the same process). Images smaller than the window: skimage's."""
    if a.shape != b.shape:
        raise ValueError(f"ssim: shapes {a.shape} and {b.shape} differ")
    h, w = a.shape[:2]
    if min(h, w) < 2 * SSIM_RADIUS + 1:
        from skimage.metrics import structural_similarity
        return float(structural_similarity(a, b, channel_axis=2, data_range=255,
                                           gaussian_weights=True, sigma=SSIM_SIGMA,
                                           use_sample_covariance=False))
    # centred on mid-grey: float32 moments of values within +-128 (the variances are
    # differences of moments, which uncentred 0..255 values would round away)
    # (float copies: an input may be read-only, as a decoded PNG can be)
    x = torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1) - 127.5
    y = torch.from_numpy(b.astype(np.float32)).permute(2, 0, 1) - 127.5
    c = x.shape[0]
    g = _ssim_window()
    gv = g.view(1, 1, -1, 1).expand(5 * c, 1, -1, 1)
    gh = g.view(1, 1, 1, -1).expand(5 * c, 1, 1, -1)
    stack = torch.cat([x, y, x * x, y * y, x * y])[None]          # (1, 5c, H, W)
    f = torch.nn.functional.conv2d(torch.nn.functional.conv2d(stack, gv, groups=5 * c),
                                   gh, groups=5 * c)[0]
    mx, my, xx, yy, xy = f[:c], f[c:2 * c], f[2 * c:3 * c], f[3 * c:4 * c], f[4 * c:]
    vx, vy, cxy = xx - mx * mx, yy - my * my, xy - mx * my
    mx, my = mx + 127.5, my + 127.5
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean(dim=(1, 2)).mean())


def score(ref: np.ndarray, img: np.ndarray) -> dict:
    """An image record's metrics against its reference: ``psnr_db`` (3 decimals) and ``ssim``
    (4 decimals), as the receiver's records and the loopback's summary carry them."""
    return {"psnr_db": round(psnr(ref, img), 3), "ssim": round(ssim(ref, img), 4)}


def batch_psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of float (B, 3, H, W) tensors in [0, 1]."""
    mse = ((x - y) ** 2).flatten(1).mean(dim=1).clamp_min(1e-10)
    return -10.0 * torch.log10(mse)
