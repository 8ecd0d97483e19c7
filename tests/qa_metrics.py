"""Image metrics: SSIM computed with torch (it releases the GIL) equals scikit-image's
reference implementation, the one the numbers in the README and model card were made with."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from models.metrics import psnr, ssim


def _reference(a, b):
    return structural_similarity(a, b, channel_axis=2, data_range=255, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)


@pytest.mark.parametrize("shape,noise", [((256, 256, 3), 30), ((256, 256, 3), 2),
                                         ((64, 96, 3), 12), ((11, 40, 3), 30),
                                         ((33, 70, 3), 5)])
def test_ssim_equals_scikit_image(shape, noise):
    rng = np.random.default_rng(sum(shape) + noise)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, shape), 0, 255).astype(np.uint8)
    assert ssim(a, b) == pytest.approx(_reference(a, b), abs=1e-5)


def test_ssim_on_a_photo_and_its_degraded_copies():
    a = data.astronaut()[:300, :256]
    blurred = ((a.astype(int)[:-1] + a.astype(int)[1:]) // 2).astype(np.uint8)
    a2 = a[:-1]
    flat = np.full_like(a2, 128)
    for b in (blurred, flat, a2):
        assert ssim(a2, b) == pytest.approx(_reference(a2, b), abs=1e-5)
    assert ssim(a2, a2) == pytest.approx(1.0, abs=1e-6) and ssim(a2, blurred) < 0.99
    assert psnr(a2, a2) == float("inf")


def test_ssim_refuses_different_shapes():
    with pytest.raises(ValueError, match="differ"):
        ssim(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 17, 3), np.uint8))
