"""SNR-estimator correction: a versioned table of the estimator's bias against its own reading.

``{"format": "semcom-snr-correction", "version": 1, "est_db": [...], "bias_db": [...],
"profiles": [...], "rms_raw_db": x, "rms_corrected_db": y}``; the receiver reports
``est - interp(est, est_db, bias_db)``. Made by ``semcom calibrate snr``; the RX loads the one
shipped in ``calibration/`` when it exists. Data both sides read: it lives in the ground layer;
``calibration.snr_correction`` re-exports it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

FORMAT = "semcom-snr-correction"
VERSION = 1
# the data stays in the calibration folder (package data of ``calibration``)
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "calibration" / "snr_correction.json"


class SnrCorrection:
    def __init__(self, est_db, bias_db, meta: dict | None = None):
        self.est_db = np.asarray(est_db, dtype=float)
        self.bias_db = np.asarray(bias_db, dtype=float)
        self.meta = meta or {}

    def __call__(self, est_db: float) -> float:
        if not len(self.est_db):
            return est_db
        return float(est_db - np.interp(est_db, self.est_db, self.bias_db))

    @classmethod
    def fit(cls, true_db: np.ndarray, est_db: np.ndarray, bins: np.ndarray) -> SnrCorrection:
        """Bias = mean(est - true) per bin of the *estimate* (what the RX knows)."""
        true_db, est_db = np.asarray(true_db), np.asarray(est_db)
        centers, bias = [], []
        for lo, hi in zip(bins[:-1], bins[1:], strict=True):
            sel = (est_db >= lo) & (est_db < hi)
            if sel.sum() >= 5:
                centers.append(float(np.mean(est_db[sel])))
                bias.append(float(np.mean(est_db[sel] - true_db[sel])))
        return cls(centers, bias)

    def save(self, path: str | Path = DEFAULT_PATH) -> None:
        doc = {"format": FORMAT, "version": VERSION, "est_db": self.est_db.tolist(),
               "bias_db": self.bias_db.tolist(), **self.meta}
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> SnrCorrection | None:
        """The correction at ``path``; without one, the shipped default or None when there is
        none. An explicit path that does not exist is an error (FileNotFoundError), never a
        silent run without correction."""
        if path is None:
            if not DEFAULT_PATH.exists():
                return None
            path = DEFAULT_PATH
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such SNR correction file")
        doc = json.loads(path.read_text())
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ValueError(f"{path}: not a version-{VERSION} SNR correction file")
        meta = {k: v for k, v in doc.items() if k not in ("est_db", "bias_db")}
        return cls(doc["est_db"], doc["bias_db"], meta)


def from_option(spec: str | Path | None) -> SnrCorrection | None:
    """An ``--snr-correction`` value (or the receiver block's parameter) -> the correction:
    empty or None: the shipped file when present (None without it); ``none``: no correction;
    anything else: that file (FileNotFoundError when missing, ValueError when malformed)."""
    if spec is None or str(spec) == "":
        return SnrCorrection.load()
    if str(spec) == "none":
        return None
    return SnrCorrection.load(spec)
