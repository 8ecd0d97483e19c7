"""Image files: listing a folder and loading RGB (shared by the TX source and RX metrics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"}


# the side larger images are shrunk to by default (tx, rx, loopback, calibrate, the TX graphs)
DEFAULT_MAX_SIDE = 256


class ImageError(ValueError):
    """An image file that cannot be read, or a folder without images (names the path)."""


def list_images(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths] if str(paths) else []
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"images: {p} does not exist")
    return out


def image_files(paths, what: str = "--images") -> list[Path]:
    """Like :func:`list_images`, but a folder (or list) without image files is an
    :class:`ImageError` naming what was given, never silently nothing."""
    files = list_images(paths)
    if not files:
        raise ImageError(f"{what} {paths}: no image files "
                         f"({', '.join(sorted(IMAGE_EXTS))})")
    return files


def load_rgb(path: Path, max_side: int = 0) -> np.ndarray:
    """uint8 (H, W, 3); a file PIL cannot decode in full is an :class:`ImageError`."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except Exception as exc:   # untrusted file: PIL raises many kinds; name the file
        raise ImageError(f"{path}: not a readable image ({type(exc).__name__}: "
                         f"{str(exc)[:80]})") from None
    if arr.ndim != 3 or min(arr.shape[:2]) < 1:
        raise ImageError(f"{path}: empty image {arr.shape}")
    return shrink(arr, max_side)


def check_images(files, max_side: int = 0) -> list[tuple[int, int]]:
    """Decode every file in full (as the TX will) -> each image's (H, W) after shrinking.
    Raises :class:`ImageError` naming every unreadable file, before any work starts."""
    sizes, bad = [], []
    for f in files:
        try:
            sizes.append(load_rgb(f, max_side).shape[:2])
        except ImageError as exc:
            bad.append(str(exc))
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise ImageError(f"{len(bad)} of {len(files)} images unreadable: {bad[0]}{more}")
    return sizes


def shrink(arr: np.ndarray, max_side: int = 0) -> np.ndarray:
    """uint8 (H, W, 3) shrunk (Lanczos, aspect kept) so its longer side is at most
    ``max_side``; unchanged when it already fits or ``max_side`` is 0."""
    if not max_side or max(arr.shape[:2]) <= max_side:
        return arr
    from PIL import Image

    img = Image.fromarray(arr)
    img.thumbnail((max_side, max_side), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8)
