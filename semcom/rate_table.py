"""The rate-quality table: expected PSNR (and SSIM) of a model over a grid of SNR x keep.

JSON, versioned, tied to one model by its hash::

    {"format": "semcom-rate-table", "version": 1, "model_hash": "...", "channels": 32,
     "snr_db": [...], "keep": [...], "psnr_db": [[per SNR] per keep], "ssim": [[...]],
     "source": "how it was measured"}

``expected_psnr(keep, snr)`` interpolates linearly in SNR (clamped at the grid's ends) and
between the tabulated keeps. A table made for another model is refused by name. Data both
sides read: it lives in the ground layer (``calibration.rate_table`` re-exports it); the tables
themselves stay in ``calibration/tables/`` (:func:`table_path`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "semcom-rate-table"
TABLE_DIR = Path(__file__).resolve().parents[1] / "calibration" / "tables"
VERSION = 1


def table_path(model_hash: str) -> Path:
    """Where the calibrated table of a model is stored."""
    return TABLE_DIR / f"{model_hash}.json"


class RateTableError(ValueError):
    pass


@dataclass
class RateTable:
    model_hash: str
    channels: int
    snr_db: list[float]
    keep: list[int]
    psnr_db: list[list[float]]
    ssim: list[list[float]] | None = None
    source: str = ""

    def __post_init__(self):
        p = np.asarray(self.psnr_db, dtype=float)
        if p.shape != (len(self.keep), len(self.snr_db)):
            raise RateTableError(f"psnr_db is {p.shape}, expected "
                                 f"{(len(self.keep), len(self.snr_db))} (keep x SNR)")
        if list(self.snr_db) != sorted(self.snr_db) or list(self.keep) != sorted(self.keep):
            raise RateTableError("snr_db and keep must be increasing")

    def expected_psnr(self, keep: int, snr_db: float) -> float:
        p = np.asarray(self.psnr_db, dtype=float)
        by_keep = np.array([np.interp(snr_db, self.snr_db, row) for row in p])
        return float(np.interp(keep, self.keep, by_keep))

    def save(self, path: str | Path) -> None:
        doc = {"format": FORMAT, "version": VERSION, "model_hash": self.model_hash,
               "channels": self.channels, "snr_db": list(map(float, self.snr_db)),
               "keep": list(map(int, self.keep)), "psnr_db": self.psnr_db, "ssim": self.ssim,
               "source": self.source}
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path, model_hash: str | None = None) -> RateTable:
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RateTableError(f"{path}: not a readable rate table ({exc})") from exc
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise RateTableError(f"{path}: not a version-{VERSION} semcom rate table")
        if model_hash is not None and doc["model_hash"] != model_hash:
            raise RateTableError(f"{path}: rate table made for model {doc['model_hash']}, "
                                 f"not for {model_hash}: refused")
        return cls(doc["model_hash"], doc["channels"], doc["snr_db"], doc["keep"],
                   doc["psnr_db"], doc.get("ssim"), doc.get("source", ""))
