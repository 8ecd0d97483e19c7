"""Checkpoint format: weights plus metadata, loaded safely, identified by a content hash.

A checkpoint is a ``torch.save`` of a plain dict (tensors, str, int, float, lists, dicts only)
so that ``torch.load(..., weights_only=True)`` reads it::

    {"format": "semcom-jscc", "version": 1, "arch": "afjscc", "config": {...},
     "meta": {"C", "ratio", "down", "snr_range", "training", ...},
     "model_hash": "<16 hex>", "state_dict": {name: tensor (fp16 or fp32)}}

``model_hash`` is the first 16 hex digits of the SHA-256 over the architecture name, the config
and the weights as stored; it is the model id carried in the radio header. A file whose
weights do not hash to its stored ``model_hash`` is refused as tampered.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from models.registry import create

FORMAT = "semcom-jscc"
VERSION = 1
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
# "default" is what every command uses unless told otherwise (scripts/ship_model.sh replaces
# it); the others are the registry's baselines, shipped to compare against.
SHIPPED = {"default": CHECKPOINT_DIR / "default.pt",
           "softcast": CHECKPOINT_DIR / "softcast.pt",
           "afjscc": CHECKPOINT_DIR / "afjscc-default.pt"}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: wrong format, wrong architecture, tampered."""


def content_hash(arch: str, config: dict, state_dict: dict) -> str:
    h = hashlib.sha256()
    h.update(arch.encode())
    h.update(json.dumps(config, sort_keys=True).encode())
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def model_meta(model) -> dict:
    return {"C": model.C, "down": model.down, "ratio": model.ratio,
            "snr_range": list(model.snr_range)}


def save_checkpoint(model, path: str | Path, training: dict | None = None,
                    fp16: bool = True) -> str:
    """Write ``model`` to ``path`` atomically; returns its model hash."""
    sd = {k: (v.detach().cpu().half() if fp16 and v.is_floating_point() else v.detach().cpu())
          for k, v in model.state_dict().items()}
    arch, config = model.arch_name, model.config()
    digest = content_hash(arch, config, sd)
    blob = {"format": FORMAT, "version": VERSION, "arch": arch, "config": config,
            "meta": {**model_meta(model), "training": training or {}},
            "model_hash": digest, "state_dict": sd}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    os.replace(tmp, path)  # never leaves a half-written checkpoint, even on Ctrl-C
    return digest


def resolve(name_or_path: str | Path | None) -> Path:
    """A shipped checkpoint name (``default``) or a file path -> path."""
    if name_or_path is None:
        name_or_path = "default"
    if str(name_or_path) in SHIPPED:
        path = SHIPPED[str(name_or_path)]
        if not path.exists():
            raise CheckpointError(f"shipped checkpoint {name_or_path!r} missing at {path}")
        return path
    path = Path(name_or_path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint {str(name_or_path)!r}: not a shipped name "
                              f"({', '.join(SHIPPED)}) nor a file")
    return path


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable semcom checkpoint ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a semcom JSCC checkpoint (format "
                              f"{blob.get('format') if isinstance(blob, dict) else type(blob)})")
    if blob.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {blob.get('version')}, this semcom "
                              f"reads version {VERSION}")
    digest = content_hash(blob["arch"], blob["config"], blob["state_dict"])
    if digest != blob.get("model_hash"):
        raise CheckpointError(f"{path}: weights hash to {digest} but the file claims "
                              f"{blob.get('model_hash')}: tampered or corrupt, refused")
    return blob


def peek(name_or_path=None) -> dict:
    """A checkpoint's metadata (verified, incl. ``model_hash``) without building the model."""
    path = resolve(name_or_path)
    blob = read_checkpoint(path)
    return dict(blob["meta"], arch=blob["arch"], config=blob["config"],
                model_hash=blob["model_hash"], path=str(path))


def load_checkpoint(name_or_path=None, arch: str | None = None, device="cpu"):
    """Load a checkpoint -> (model in eval mode, float32, metadata dict incl. model_hash).

    ``arch``: when given, a checkpoint of another architecture is refused by name.
    """
    path = resolve(name_or_path)
    blob = read_checkpoint(path)
    if arch is not None and blob["arch"] != arch:
        raise CheckpointError(f"{path}: checkpoint is architecture {blob['arch']!r}, "
                              f"not the requested {arch!r}")
    model = create(blob["arch"], **blob["config"])
    sd = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    try:
        model.load_state_dict(sd)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit architecture {blob['arch']!r} "
                              f"with config {blob['config']}: {exc}") from exc
    model.to(device).eval()
    meta = dict(blob["meta"], arch=blob["arch"], config=blob["config"],
                model_hash=blob["model_hash"], path=str(path))
    return model, meta
