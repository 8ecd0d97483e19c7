"""Whole-image encode/decode around a JSCC model: any image size, numpy in and out.

``JSCCCodec.encode(image uint8 (H, W, 3), snr_db, keep)`` -> complex64 symbols ``(keep, h, w)``
(only the sent channels, unit mean power); ``encode_side`` also returns the side-information
bits (uint8, ``side_bits`` of them; None for models without); ``decode(symbols, (H, W),
snr_db, keep, noise_var=None, side=None)`` -> uint8 image. ``symbols_for(keep, H, W)`` is the
channel-symbol count of one image, side frame payload included (what every bandwidth figure
counts). Zero-filling of unsent channels happens here; images are
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
        self.side_bits = int(getattr(model, "side_bits", 0))

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

    def encoder_snr(self, snr_db: float) -> float:
        """The SNR the encoder uses: clamped, and on the header's 0.25 dB grid, so a decoder
        that recomputes the encoder's gains from the header gets exactly the same ones."""
        from semcom.header import Header
        return Header.snr_grid(self.clamp_snr(snr_db))

    def side_symbols(self) -> int:
        from semcom import sideinfo
        return sideinfo.n_symbols(self.side_bits)

    def symbols_for(self, keep: int, height: int, width: int) -> int:
        h, w = self.latent_shape(height, width)
        return int(keep) * h * w + self.side_symbols()

    @property
    def can_predict(self) -> bool:
        """Whether the model predicts an image's quality from the image itself."""
        return hasattr(self.model, "expected_mse")

    @torch.inference_mode()
    def expected_psnr(self, image: np.ndarray, snr_db: float, keeps) -> np.ndarray:
        """Expected PSNR (dB) of ``image`` at ``snr_db`` for each of ``keeps`` (AWGN, the
        model's own prediction; the uint8 rounding of the output counted)."""
        x = self._pad(to_tensor(image)[None])
        mse = self.model.expected_mse(x, self.encoder_snr(snr_db), keeps).cpu().numpy()
        return 10.0 * np.log10(1.0 / (mse + 1.0 / (255.0 ** 2 * 12.0)))

    @torch.inference_mode()
    def encode_side(self, image: np.ndarray, snr_db: float, keep: int | None = None):
        """-> (symbols complex64 (keep, h, w), side bits uint8 or None)."""
        keep = self.C if keep is None else int(keep)
        x = self._pad(to_tensor(image)[None])
        z, side = self.model.encode_side(x, self.encoder_snr(snr_db), keep)
        bits = None
        if side is not None:
            bits = self.model.pack_side(side)[0].numpy().astype(np.uint8)
        return z[0, :keep].numpy().astype(np.complex64), bits

    def encode(self, image: np.ndarray, snr_db: float, keep: int | None = None) -> np.ndarray:
        return self.encode_side(image, snr_db, keep)[0]

    @torch.inference_mode()
    def decode(self, symbols: np.ndarray, size: tuple[int, int], snr_db: float,
               keep: int | None = None, noise_var: np.ndarray | None = None,
               side: np.ndarray | None = None, tx_snr_db: float | None = None) -> np.ndarray:
        """``side``: the side-information bits (required when ``side_bits`` > 0);
        ``tx_snr_db``: the SNR the encoder was told (the header's), default ``snr_db``."""
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
        if self.side_bits:
            from models.softcast import SideError
            if side is None:
                raise SideError("this model needs its side information to decode")
            side_d = self.model.unpack_side(torch.from_numpy(np.asarray(side, np.uint8)))
            enc_snr = self.encoder_snr(snr_db if tx_snr_db is None else tx_snr_db)
            out = self.model.decode(full, enc_snr, keep, self._noise(nv, snr_db, full.shape),
                                    side_d)
        else:
            out = self.model.decode(full, self.clamp_snr(snr_db), keep, nv)
        return to_uint8(out[0, :, :size[0], :size[1]])

    @staticmethod
    def _noise(nv, snr_db, shape):
        """Per-symbol noise variance: the equaliser's, or from the SNR when not given."""
        if nv is not None:
            return nv
        return torch.full(shape, 10.0 ** (-float(snr_db) / 10.0))
