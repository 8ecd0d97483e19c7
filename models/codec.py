"""Whole-image encode/decode around a JSCC model: any image size, numpy in and out.

``JSCCCodec.encode(image uint8 (H, W, 3), snr_db, keep)`` -> complex64 symbols ``(keep, h, w)``
(only the sent channels, unit mean power); ``decode(symbols, (H, W), snr_db, keep,
noise_var=None)`` -> uint8 image. Zero-filling of unsent channels happens here; images are
padded (edge replicate) to a multiple of the model's downsampling and cropped back.
This is the interface the radio blocks wrap.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models.data import to_tensor, to_uint8


class JSCCCodec:
    def __init__(self, model, meta: dict | None = None, threads: int | None = None):
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = model.eval()
        self.meta = meta or {}
        self.C = model.C
        self.down = model.down

    @classmethod
    def load(cls, name_or_path=None, threads: int | None = None):
        from models.checkpoint import load_checkpoint

        model, meta = load_checkpoint(name_or_path)
        return cls(model, meta, threads)

    def clamp_snr(self, snr_db: float) -> float:
        """SNR given to the networks, limited to the range the model was trained for (a
        receiver's estimate on a clean file can read 140 dB)."""
        lo, hi = self.model.snr_range
        return float(min(max(float(snr_db), lo), hi))

    @property
    def model_hash(self) -> str:
        return self.meta.get("model_hash", "")

    def latent_shape(self, height: int, width: int) -> tuple[int, int]:
        d = self.down
        return (height + d - 1) // d, (width + d - 1) // d

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.down, (-w) % self.down
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x

    @torch.inference_mode()
    def encode(self, image: np.ndarray, snr_db: float, keep: int | None = None) -> np.ndarray:
        keep = self.C if keep is None else int(keep)
        x = self._pad(to_tensor(image)[None])
        z = self.model.encode(x, self.clamp_snr(snr_db), keep)
        return z[0, :keep].numpy().astype(np.complex64)

    @torch.inference_mode()
    def decode(self, symbols: np.ndarray, size: tuple[int, int], snr_db: float,
               keep: int | None = None, noise_var: np.ndarray | None = None) -> np.ndarray:
        keep = symbols.shape[0] if keep is None else int(keep)
        h, w = self.latent_shape(*size)
        if symbols.shape != (keep, h, w):
            raise ValueError(f"symbols shape {symbols.shape}, expected {(keep, h, w)}")
        full = torch.zeros((1, self.C, h, w), dtype=torch.complex64)
        full[0, :keep] = torch.from_numpy(np.ascontiguousarray(symbols, dtype=np.complex64))
        nv = None
        if noise_var is not None:
            nv = torch.ones((1, self.C, h, w))
            nv[0, :keep] = torch.from_numpy(np.asarray(noise_var, dtype=np.float32))
        out = self.model.decode(full, self.clamp_snr(snr_db), keep, nv)
        return to_uint8(out[0, :, :size[0], :size[1]])
