"""TX record: what was sent, so every received frame of a recording has its ground truth.

``semcom tx --record DIR`` writes, per encoded image, ``DIR/tx_s<session>_<id>.npz`` holding
``symbols`` (the sent latent, flat complex64, channel-major: what the framer splits over the
frames, frame ``i`` carrying flat positions ``i::frame_count``), ``side`` (side-information
bits, empty for models without), ``keep``, ``lat_h``, ``lat_w``, ``height``, ``width``,
``session``, ``image_id``, and appends a line to ``DIR/sent.jsonl`` (the same fields but the
arrays, plus ``model_hash``, ``tx_snr_db``, ``frame_symbols``, the file name and the sha256 of
the symbols). Files are written through a temporary name and renamed: a killed TX leaves only
whole images. The folder is refused when it is not empty unless ``force``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from pathlib import Path

import numpy as np

from semcom.validate import OptionError, record_dir

check_dir = record_dir     # refuses a non-empty folder without force, a read-only one


def symbols_hash(z: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(z, np.complex64).tobytes()).hexdigest()[:16]


class TxRecorder:
    def __init__(self, folder, model_hash: str, frame_symbols: int, session: int):
        self.folder = Path(folder)
        self.model_hash = model_hash
        self.frame_symbols = int(frame_symbols)
        self.session = int(session)
        self.images = 0
        self._lock = threading.Lock()
        # --force: a new record (only the files a record is made of go)
        for old in [self.folder / "sent.jsonl", *self.folder.glob("tx_s*_*.npz")]:
            if old.is_file():
                old.unlink()

    def add(self, info: dict, symbols: np.ndarray, side, shape: tuple[int, int, int],
            size: tuple[int, int]) -> None:
        """One encoded image: ``info`` the encoder's record (image_id, keep, tx_snr_db...)."""
        image_id = int(info["image_id"]) & 0xFFFF
        keep, lat_h, lat_w = (int(v) for v in shape)
        z = np.ascontiguousarray(symbols, np.complex64).reshape(-1)
        side_bits = np.zeros(0, np.uint8) if side is None else np.asarray(side, np.uint8)
        name = f"tx_s{self.session:03d}_{image_id:05d}.npz"
        buf = io.BytesIO()
        np.savez(buf, symbols=z, side=side_bits, keep=keep, lat_h=lat_h, lat_w=lat_w,
                 height=int(size[0]), width=int(size[1]), session=self.session,
                 image_id=image_id)
        rec = {"session": self.session, "image_id": image_id, "keep": keep, "lat_h": lat_h,
               "lat_w": lat_w, "height": int(size[0]), "width": int(size[1]),
               "symbols": int(z.size), "side_bits": int(side_bits.size),
               "symbols_sha256": symbols_hash(z), "model_hash": self.model_hash,
               "frame_symbols": self.frame_symbols, "tx_snr_db": info.get("tx_snr_db"),
               "name": info.get("name"), "file": name}
        with self._lock:
            tmp = self.folder / (name + ".tmp")
            tmp.write_bytes(buf.getvalue())
            os.replace(tmp, self.folder / name)
            with open(self.folder / "sent.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.images += 1


def attach(encoder, folder, frame_symbols: int, session: int) -> TxRecorder:
    """Record every image ``encoder`` (a ``jscc_encoder`` block) encodes into ``folder``."""
    txr = TxRecorder(folder, encoder.model_hash, frame_symbols, session)
    encoder.on_encoded = lambda rec, z, side, size: txr.add(rec, z, side, z.shape, size)
    return txr


def load_record(folder) -> dict[tuple[int, int], dict]:
    """A TX record -> {(session, image_id): its sent.jsonl entry with the npz path}; lines
    that do not parse and entries whose file is missing are skipped (untrusted input)."""
    folder = Path(folder)
    out = {}
    try:
        lines = (folder / "sent.jsonl").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        raise OptionError(f"--tx-record {folder}: no readable sent.jsonl (not a TX "
                          "record)") from None
    for line in lines:
        try:
            rec = json.loads(line)
            key = (int(rec["session"]), int(rec["image_id"]))
            path = folder / Path(str(rec["file"])).name
        except (ValueError, KeyError, TypeError):
            continue
        if path.is_file():
            out[key] = {**rec, "path": path}
    return out
