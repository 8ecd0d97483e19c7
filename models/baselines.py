"""Separation baselines on the same channel-use budget as the JSCC model.

With ``n`` complex channel uses at SNR ``s`` (product convention, linear ``10**(s/10)``):

- ``jpeg_capacity`` / ``webp_capacity``: the image coded at the largest quality whose file fits
  ``n * log2(1 + s)`` bits, i.e. an ideal capacity-achieving channel code (an upper bound on
  what any separate digital link can do).
- ``webp_qpsk_r12``: WebP over QPSK with a rate-1/2 code, ``n`` bits, error-free above 3 dB
  and lost below; ``webp_16qam_r12``: 16-QAM rate 1/2, ``2n`` bits, error-free above 8 dB.

When nothing fits (or the link is lost) the receiver has no image and shows mid-grey; the
record says so (``delivered: False``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

PRACTICAL_LINKS = {  # name: (bits per channel use, SNR threshold dB)
    "webp_qpsk_r12": (1.0, 3.0),
    "webp_16qam_r12": (2.0, 8.0),
}
BASELINES = ("jpeg_capacity", "webp_capacity", *PRACTICAL_LINKS)


def digital_links() -> dict[str, tuple[float, float]]:
    """The digital scheme's practical link per MCS (``semcom eval --digital``): name
    ``digital_<mcs>`` -> (file bits per channel use: QAM bits x code rate less each codeword's
    CRC-16, SNR threshold dB: 1% codeword loss measured through the PHY,
    :func:`semcom.mcs.thresholds`). The image arrives error-free at or above the threshold
    and is lost below it."""
    from semcom import mcs

    th = mcs.thresholds()
    return {f"digital_{m.name}": (m.bits_per_symbol * (m.k - mcs.CRC_BITS) / m.k, th[m.name])
            for m in mcs.TABLE}


@dataclass
class Coded:
    image: np.ndarray      # what the receiver shows, uint8 (H, W, 3)
    bits: int              # file size in bits (0 when nothing was sent)
    quality: int | None    # codec quality used
    delivered: bool


def capacity_bits(n_channel_uses: int, snr_db: float) -> float:
    return n_channel_uses * math.log2(1.0 + 10.0 ** (snr_db / 10.0))


def encode(image: np.ndarray, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    kwargs = {"quality": quality}
    if fmt == "WEBP":
        kwargs["method"] = 6
    Image.fromarray(image).save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def grey_like(image: np.ndarray) -> np.ndarray:
    return np.full_like(image, 128)


def best_fit(image: np.ndarray, fmt: str, budget_bits: float) -> Coded:
    """Largest quality in 1..100 whose file fits ``budget_bits`` (binary search)."""
    lo, hi, best = 1, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(image, fmt, q)
        if len(data) * 8 <= budget_bits:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    if best is None:
        return Coded(grey_like(image), 0, None, False)
    q, data = best
    return Coded(decode(data), len(data) * 8, q, True)


def run_baseline(name: str, image: np.ndarray, n_channel_uses: int, snr_db: float,
                 cache: dict | None = None) -> Coded:
    """``cache`` (a dict the caller keeps per image) saves re-encoding the same budget."""
    def fit(fmt, budget):
        if cache is None:
            return best_fit(image, fmt, budget)
        key = (fmt, budget)
        if key not in cache:
            cache[key] = best_fit(image, fmt, budget)
        return cache[key]

    if name == "jpeg_capacity":
        return fit("JPEG", capacity_bits(n_channel_uses, snr_db))
    if name == "webp_capacity":
        return fit("WEBP", capacity_bits(n_channel_uses, snr_db))
    if name.startswith("digital_") and name in digital_links():
        bits_per_use, threshold = digital_links()[name]
        coded = fit("WEBP", bits_per_use * n_channel_uses)
        if snr_db < threshold:
            return Coded(grey_like(image), coded.bits, coded.quality, False)
        return coded
    if name in PRACTICAL_LINKS:
        bits_per_use, threshold = PRACTICAL_LINKS[name]
        coded = fit("WEBP", bits_per_use * n_channel_uses)
        if snr_db <= threshold:
            return Coded(grey_like(image), coded.bits, coded.quality, False)
        return coded
    raise KeyError(f"unknown baseline {name!r}; known: "
                   f"{', '.join((*BASELINES, *digital_links()))}")
