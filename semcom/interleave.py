"""Payload interleaving and the split of an image's symbols into frames (TX and RX agree).

- Frames: flat JSCC symbol ``j`` of an image (channel-major order) goes to frame
  ``j % n_frames``, so a lost frame removes an evenly spread 1/n of every kept channel rather
  than whole channels.
- Within a frame, the payload is permuted with a permutation seeded by ``INTERLEAVER_SEED``
  and the payload length, so neighbouring latent symbols land on distant subcarriers and OFDM
  symbols.
"""

from __future__ import annotations

import numpy as np

from semcom.numerology import INTERLEAVER_SEED


def permutation(n: int) -> np.ndarray:
    return np.random.default_rng([INTERLEAVER_SEED, n]).permutation(n)


def interleave(x: np.ndarray) -> np.ndarray:
    return x[permutation(len(x))]


def deinterleave(y: np.ndarray) -> np.ndarray:
    out = np.empty_like(y)
    out[permutation(len(y))] = y
    return out


def n_frames(n_symbols: int, frame_symbols: int) -> int:
    return max(1, -(-n_symbols // frame_symbols))


def split(flat: np.ndarray, count: int) -> list[np.ndarray]:
    """Flat symbols -> ``count`` frame payloads (strided)."""
    return [flat[i::count] for i in range(count)]


def frame_indices(n_symbols: int, count: int, idx: int) -> np.ndarray:
    """Positions in the flat vector that frame ``idx`` of ``count`` carries."""
    return np.arange(idx, n_symbols, count)
