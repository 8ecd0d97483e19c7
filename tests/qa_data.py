"""Training data: the built-in photo lists and the random crop sampler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from models.data import (
    BACKGROUNDS_DIR,
    EXTRA_PHOTOS,
    HELDOUT,
    WALLPAPER_MAX_SIDE,
    WALLPAPER_PHOTOS,
    CropSampler,
    NamedImage,
    load_image_file,
)


@pytest.fixture
def sides(monkeypatch):
    """sides(sampler, size, n): the crop side of n draws, read by wrapping the resize step
    (a crop of exactly ``size`` pixels is not resized and not counted)."""
    seen: list[int] = []
    orig = F.interpolate

    def spy(x, *a, **k):
        seen.append(x.shape[-1])
        return orig(x, *a, **k)

    monkeypatch.setattr(F, "interpolate", spy)

    def draw(sampler: CropSampler, size: int, n: int) -> list[int]:
        seen.clear()
        for _ in range(n):
            sampler.sample(1, size)
        return list(seen)
    return draw


def _synthetic(h: int, w: int, seed: int = 0) -> NamedImage:
    rng = np.random.default_rng(seed)
    return NamedImage("synthetic", rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_crops_cover_up_to_the_whole_image(sides):
    s = CropSampler([_synthetic(300, 400)], seed=1, min_scale=0.2)
    got = sides(s, 32, 400)
    assert len(got) == 400                      # every crop is resized (none is 32 px here)
    assert 0.9 * 300 <= max(got) <= 300
    assert min(got) >= 0.2 * 300 - 1
    # log-uniform in [0.2, 1]: about half the draws below sqrt(0.2) of the short side
    assert 0.35 < np.mean(np.array(got) < np.sqrt(0.2) * 300) < 0.65


def test_crops_never_upsample_a_big_enough_image(sides):
    s = CropSampler([_synthetic(100, 150)], seed=2, min_scale=0.1)
    got = sides(s, 64, 200)
    # sides below 64 source pixels are taken 1:1 (no resize call), the rest are 65..100
    assert 0 < len(got) < 200 and all(64 < v <= 100 for v in got)


def test_small_image_is_taken_whole(sides):
    s = CropSampler([_synthetic(20, 30)], seed=3)
    assert s.sample(4, 32).shape == (4, 3, 32, 32)
    assert set(sides(s, 32, 20)) == {20}


def test_sample_shape_range_and_determinism():
    ims = [_synthetic(120, 200, 0), _synthetic(90, 90, 1)]
    a = CropSampler(ims, seed=7).sample(6, 48)
    b = CropSampler(ims, seed=7).sample(6, 48)
    assert a.shape == (6, 3, 48, 48) and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b)
    assert not torch.equal(a, CropSampler(ims, seed=8).sample(6, 48))
    s = CropSampler(ims, seed=7)
    st = s.state()
    c = s.sample(3, 48)
    s.set_state(st)
    assert torch.equal(c, s.sample(3, 48))


def test_min_scale_is_checked():
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="min_scale"):
            CropSampler([_synthetic(40, 40)], min_scale=bad)


def test_extra_photo_list():
    names = [n for _, _, n in EXTRA_PHOTOS]
    assert len(set(names)) == len(names)
    assert not set(names) & set(WALLPAPER_PHOTOS)
    assert not {f"wallpaper:{n}" for n in names} & set(HELDOUT)
    assert {p for p, _, _ in EXTRA_PHOTOS} == {
        "mate-backgrounds", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04"}


def test_installed_extra_photos_load_as_rgb():
    present = [(rel, n) for _, rel, n in EXTRA_PHOTOS if (BACKGROUNDS_DIR / rel).is_file()]
    if not present:
        pytest.skip("no extra wallpaper packages installed")
    for rel, n in present:
        arr = load_image_file(BACKGROUNDS_DIR / rel, WALLPAPER_MAX_SIDE)
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3, n
        assert max(arr.shape[:2]) <= WALLPAPER_MAX_SIDE and min(arr.shape[:2]) >= 256, n
        assert arr.std() > 10, n


def test_extra_photos_follow_the_wallpaper_folder(tmp_path):
    """With SEMCOM_WALLPAPERS (a GPU machine's copy from scripts/devkit.sh) the extra photos are
    read from its backgrounds/ subfolder, under their names."""
    pkg, rel, name = EXTRA_PHOTOS[0]
    f = tmp_path / "wp" / "backgrounds" / rel
    f.parent.mkdir(parents=True)
    Image.fromarray(np.full((30, 50, 3), 99, np.uint8)).save(f, format="PNG")
    code = ("from models.data import builtin_images\n"
            "ims = {i.name: i.array for i in builtin_images()}\n"
            "w = sorted(n for n in ims if n.startswith('wallpaper:'))\n"
            f"print(w, ims['wallpaper:{name}'].shape, int(ims['wallpaper:{name}'].mean()))")
    env = dict(os.environ, SEMCOM_WALLPAPERS=str(tmp_path / "wp"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"['wallpaper:{name}'] (30, 50, 3) 99"
