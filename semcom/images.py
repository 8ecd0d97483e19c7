"""Image files: listing a folder and loading RGB (shared by the TX source and RX metrics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"}


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


def load_rgb(path: Path, max_side: int = 0) -> np.ndarray:
    from PIL import Image

    return shrink(np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8), max_side)


def shrink(arr: np.ndarray, max_side: int = 0) -> np.ndarray:
    """uint8 (H, W, 3) shrunk (Lanczos, aspect kept) so its longer side is at most
    ``max_side``; unchanged when it already fits or ``max_side`` is 0."""
    if not max_side or max(arr.shape[:2]) <= max_side:
        return arr
    from PIL import Image

    img = Image.fromarray(arr)
    img.thumbnail((max_side, max_side), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8)
