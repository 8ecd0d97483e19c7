"""Training and evaluation images.

The built-in set needs no download: the colour photos that ship inside scikit-image and
scikit-learn, plus the photographic wallpapers of Debian's ``plasma-workspace-wallpapers``,
``mate-backgrounds``, ``lomiri-wallpapers-16.04`` and ``lomiri-wallpapers-20.04`` (installed by
``make setup``; :data:`WALLPAPER_PHOTOS`, :data:`EXTRA_PHOTOS`). The held-out split is fixed by
name (:data:`HELDOUT`); everything else trains. ``--data DIR`` uses any folder of images instead
(split by a seeded hash of the file name), and a folder holding CIFAR-10's python batches
(``data_batch_*``) is read as such.

Images are kept in memory as uint8 tensors ``(3, H, W)``; :class:`CropSampler` draws random
crops at random scales with flips and light colour jitter, as float ``(B, 3, S, S)`` in [0, 1],
on the device the images live on (a GPU crops and resizes there, so the CPU does not feed it
pixel by pixel).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "hubble_deep_field", "immunohistochemistry",
                  "retina", "rocket")
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
# Debian's folder; SEMCOM_WALLPAPERS points elsewhere (a machine without the package, such as a
# lent GPU machine carrying a copy made by scripts/devkit.sh)
WALLPAPER_DIR = Path(os.environ.get("SEMCOM_WALLPAPERS", "/usr/share/wallpapers"))
# Photographs among the wallpapers (the others are drawings or abstract renders).
WALLPAPER_PHOTOS = ("Autumn", "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour",
                    "EveningGlow", "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "Volna",
                    "summer_1am")
# Photographs among the wallpapers of other Debian packages (the rest of their 77 images are
# drawings, abstract renders, gradients or logos): (package, path under BACKGROUNDS_DIR, name).
# They all train. With SEMCOM_WALLPAPERS set they are looked for in its "backgrounds" subfolder
# (where scripts/devkit.sh copies them) instead of /usr/share/backgrounds.
EXTRA_PHOTOS = (
    *(("mate-backgrounds", f"mate/nature/{n}.jpg", n) for n in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
        "Storm", "TwoWings", "Wood", "YellowFlower")),
    *(("lomiri-wallpapers-16.04", f"{n}_by_{author}.jpg", n) for n, author in (
        ("Bridge", "Sander_Klootwijk"), ("Dragonfly", "Bolly"), ("Picture_0B", "freespace"),
        ("Picture_1A", "freespace"), ("Wine", "Jakkub_Mede"), ("aitzgorri", "Aitzol_Berasategi"),
        ("analogpattern", "Peter_Nerlich"), ("free", "Peter_Nerlich"),
        ("friends", "Aitzol_Berasategi"), ("greentock", "Peter_Nerlich"),
        ("life", "Aitzol_Berasategi"), ("picosdeeuropa", "Aitzol_Berasategi"),
        ("seeding", "Clements_Engelhardt"), ("sunset", "Aitzol_Berasategi"))),
    ("lomiri-wallpapers-20.04", "Kleiber_by_Lukas_Baubkus.jpg", "Kleiber"),
)
BACKGROUNDS_DIR = (WALLPAPER_DIR / "backgrounds" if "SEMCOM_WALLPAPERS" in os.environ
                   else Path("/usr/share/backgrounds"))
# The fixed held-out photos: never trained on, used by `semcom eval` and the model card.
HELDOUT = ("skimage:coffee", "skimage:rocket", "sklearn:china.jpg", "wallpaper:EveningGlow",
           "wallpaper:Path")
WALLPAPER_MAX_SIDE = 1280
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"}


@dataclass
class NamedImage:
    name: str
    array: np.ndarray  # uint8 (H, W, 3)


def _rgb(arr) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8))


def _wallpaper_file(name: str) -> Path | None:
    folder = WALLPAPER_DIR / name / "contents" / "images"
    if not folder.is_dir():
        return None
    files = [f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTS]
    if not files:
        return None

    def width(f: Path) -> int:
        try:
            return int(f.stem.split("x")[0])
        except ValueError:
            return 0
    # the smallest file at least WALLPAPER_MAX_SIDE wide, else the largest
    big = sorted((f for f in files if width(f) >= WALLPAPER_MAX_SIDE), key=width)
    return big[0] if big else max(files, key=width)


def load_image_file(path: Path, max_side: int | None = None) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8).copy()


def builtin_images() -> list[NamedImage]:
    """Every built-in photo, named ``source:name``; missing wallpapers are skipped."""
    import skimage.data
    from sklearn.datasets import load_sample_image

    out = [NamedImage(f"skimage:{n}", _rgb(getattr(skimage.data, n)())) for n in SKIMAGE_PHOTOS]
    out += [NamedImage(f"sklearn:{n}", _rgb(load_sample_image(n))) for n in SKLEARN_PHOTOS]
    for n in WALLPAPER_PHOTOS:
        f = _wallpaper_file(n)
        if f is not None:
            out.append(NamedImage(f"wallpaper:{n}", load_image_file(f, WALLPAPER_MAX_SIDE)))
    for _pkg, rel, n in EXTRA_PHOTOS:
        f = BACKGROUNDS_DIR / rel
        if f.is_file():
            out.append(NamedImage(f"wallpaper:{n}", load_image_file(f, WALLPAPER_MAX_SIDE)))
    return out


class CifarBatchError(pickle.UnpicklingError):
    """A CIFAR batch file that is not plain data (it would run code) or not CIFAR-shaped."""


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles plain data only: the builtin containers and numpy arrays. Any other global (a
    callable a crafted file names to run code on load: ``os.system``, ``eval``, ...) is refused
    before it is looked up."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),   # how protocol 2 spells the bytes inside a numpy array
        *(("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "bytes",
                                    "bytearray")),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise CifarBatchError(f"refers to {module}.{name}: only numpy arrays and plain "
                                  "containers are read from a dataset (it could run code)")
        return super().find_class(module, name)


def _cifar_images(folder: Path, split: str) -> list[NamedImage]:
    files = sorted(folder.glob("data_batch_*")) if split == "train" else [folder / "test_batch"]
    out = []
    for f in files:
        # the CIFAR-10 python format is pickled: read it without running anything it names
        try:
            with open(f, "rb") as fh:
                d = _CifarUnpickler(fh, encoding="bytes").load()
            arr = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        except CifarBatchError as exc:
            raise CifarBatchError(f"--data {f}: not a CIFAR-10 batch: {exc}") from None
        except (pickle.UnpicklingError, EOFError, TypeError, KeyError, ValueError,
                AttributeError, IndexError) as exc:
            raise CifarBatchError(f"--data {f}: not a CIFAR-10 batch ({type(exc).__name__}: "
                                  f"{str(exc)[:80]})") from None
        arr = arr.transpose(0, 2, 3, 1)
        out += [NamedImage(f"cifar:{f.name}:{i}", a) for i, a in enumerate(arr)]
    return out


def _in_heldout_by_hash(name: str, frac: float = 0.1) -> bool:
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < frac


def load_split(split: str, data: str | Path | None = None) -> list[NamedImage]:
    """``split`` is "train" or "heldout". ``data``: None for the built-in set, or a folder."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', not {split!r}")
    if data is None:
        images = builtin_images()
        return [im for im in images if (im.name in HELDOUT) == (split == "heldout")]
    folder = Path(data)
    if not folder.is_dir():
        raise FileNotFoundError(f"--data {folder}: not a directory")
    if (folder / "data_batch_1").exists():
        return _cifar_images(folder, split)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise FileNotFoundError(f"--data {folder}: no images ({', '.join(sorted(IMAGE_EXTS))})")
    chosen = [f for f in files
              if _in_heldout_by_hash(str(f.relative_to(folder))) == (split == "heldout")]
    if split == "train" and not chosen:
        chosen = files
    return [NamedImage(str(f.relative_to(folder)), load_image_file(f)) for f in chosen]


def load_folder(folder: str | Path) -> list[NamedImage]:
    """Every image of a folder (for ``semcom eval --images``), sorted by name."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise FileNotFoundError(f"{folder}: no images")
    return [NamedImage(f.name, load_image_file(f)) for f in files]


def to_tensor(arr: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> float (3, H, W) in [0, 1]."""
    return torch.from_numpy(np.array(arr, dtype=np.uint8)).permute(2, 0, 1).float() / 255.0


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """float (3, H, W) in [0, 1] -> uint8 (H, W, 3)."""
    return (t.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class CropSampler:
    """Random training crops: a random image (weighted by the square root of its area), a square
    crop at a random position whose side is a random fraction of the image's short side,
    log-uniform in ``[min_scale, 1]`` (every octave of zoom equally likely; 1 is the whole short
    side), resized to ``size`` x ``size`` (bilinear, antialiased), then a random horizontal flip
    and light colour jitter. The side is never below ``size`` source pixels where the image has
    them (a small fraction of a small image is taken 1:1 instead of upsampled); an image shorter
    than ``size`` is taken whole and upsampled.

    ``sample(batch, size)`` -> float ``(batch, 3, size, size)`` in [0, 1]; the same ``seed`` (or
    ``set_state(state())``) gives the same crops.
    """

    def __init__(self, images: list[NamedImage], seed: int = 0, min_scale: float = 0.2,
                 jitter: float = 0.05, device: str | torch.device = "cpu"):
        if not images:
            raise ValueError("no training images")
        self.device = torch.device(device)
        self.images = [torch.from_numpy(im.array).permute(2, 0, 1).contiguous().to(self.device)
                       for im in images]
        areas = np.array([im.shape[1] * im.shape[2] for im in self.images], dtype=np.float64)
        self.weights = np.sqrt(areas) / np.sqrt(areas).sum()
        self.rng = np.random.default_rng(seed)
        if not 0.0 < min_scale <= 1.0:
            raise ValueError(f"min_scale must be in (0, 1], not {min_scale}")
        self.min_scale = min_scale
        self.jitter = jitter

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    def _crop(self, size: int) -> torch.Tensor:
        img = self.images[self.rng.choice(len(self.images), p=self.weights)]
        _, h, w = img.shape
        short = min(h, w)
        # the crop covers `side` source pixels: a log-uniform fraction of the short side
        frac = float(np.exp(self.rng.uniform(np.log(self.min_scale), 0.0)))
        side = min(short, max(min(size, short), round(frac * short)))
        y = int(self.rng.integers(0, h - side + 1))
        x = int(self.rng.integers(0, w - side + 1))
        crop = img[:, y:y + side, x:x + side].float()[None] / 255.0
        if side != size:
            crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True,
                                 align_corners=False)
        crop = crop[0]
        if self.rng.random() < 0.5:
            crop = crop.flip(-1)
        if self.jitter:
            gain = 1.0 + self.jitter * (2 * torch.from_numpy(self.rng.random(3)).float() - 1)
            gain = gain.to(self.device)
            crop = crop * gain[:, None, None] + self.jitter * (self.rng.random() - 0.5)
        return crop.clamp(0, 1)

    def sample(self, batch: int, size: int) -> torch.Tensor:
        return torch.stack([self._crop(size) for _ in range(batch)])
