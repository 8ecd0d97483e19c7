"""The per-frame dataset's format (``semcom dataset``): what an export writes and a reader
needs, shared by the runners (:mod:`apps.dataset`: export, check, collect) and the readers
(:mod:`sdr_rx.rx_adapt`, ``semcom dataset info``).

A dataset folder ``DS`` holds ``DS/shards/r<k>_<name>_<sample_start>.npz`` (``k``: the
recording's position), one per decoded frame: ``rx_symbols`` (the equalised JSCC symbols,
deinterleaved, complex64), ``noise_var`` (per symbol, float32), ``spectra`` (the payload's
CFO-corrected spectra before equalisation: OFDM symbols x the 52 used carriers,
``used_carriers`` in ``dataset.json``), ``channel`` (the channel estimate on those carriers) and
``tx_symbols`` (what was sent, from the TX's record; empty when absent); ``DS/manifest.jsonl``,
one line per shard (:data:`MANIFEST_KEYS`); ``DS/dataset.json``, the summary.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

N_DATA, N_USED = 48, 52    # data and used carriers (semcom.numerology)
FORMAT = "semcom-dataset"
VERSION = 1
# the keys of a manifest line (``tx_absent`` only where ``tx_symbols`` is false)
MANIFEST_KEYS = ("shard", "sha256", "recording", "sample_start", "sample_count", "session",
                 "image_id", "frame_idx", "frame_count", "seq", "keep", "side", "payload_len",
                 "lat_h", "lat_w", "img_h", "img_w", "model_id", "model_hash", "tx_snr_db",
                 "snr_est_db", "true_snr_db", "cfo_hz", "noise_var_mean", "tx_symbols")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tx_symbols(sent: dict, h, cache: dict) -> tuple[np.ndarray | None, str]:
    """The transmitted symbols of a received frame, or (None, why not)."""
    from semcom import interleave

    if h.is_side:
        return None, "side frame"
    entry = sent.get((h.session, h.image_id))
    if entry is None:
        return None, "not in the TX record" if sent else "no TX record"
    key = str(entry["path"])
    if key not in cache:
        try:
            with np.load(entry["path"], allow_pickle=False) as z:
                cache[key] = (np.asarray(z["symbols"], np.complex64).reshape(-1),
                              int(z["keep"]), int(z["lat_h"]), int(z["lat_w"]))
        except Exception as exc:      # a damaged record costs its frames' ground truth only
            cache[key] = (None, f"TX record unreadable: {type(exc).__name__}")
    got = cache[key]
    if got[0] is None:
        return None, got[1]
    z, keep, lh, lw = got
    if (keep, lh, lw) != (h.keep, h.lat_h, h.lat_w) or z.size != keep * lh * lw:
        return None, "TX record does not match the header (another image with this id)"
    idx = interleave.frame_indices(z.size, h.frame_count, h.frame_idx)
    if idx.size != h.payload_len:
        return None, "TX record does not match the frame's length"
    return z[idx], ""


def _manifest(ds: Path) -> tuple[list[dict], list[str]]:
    from semcom.validate import OptionError

    if not ds.is_dir():
        raise OptionError(f"dataset {ds}: no such folder")
    path = ds / "manifest.jsonl"
    if not path.is_file():
        raise OptionError(f"dataset {ds}: no manifest.jsonl (not a dataset export)")
    rows, problems = [], []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"dataset {ds}: manifest.jsonl unreadable ({exc})") from None
    for i, line in enumerate(text.splitlines(), 1):
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not an object")
            rows.append(row)
        except ValueError as exc:
            problems.append(f"manifest line {i}: not a JSON object ({str(exc)[:60]})")
    return rows, problems


def info(ds: Path, plot: Path | None) -> dict:
    rows, problems = _manifest(ds)
    frames = [r for r in rows if not r.get("side")]

    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
    est = np.array([r["snr_est_db"] for r in frames if num(r.get("snr_est_db"))], float)
    pairs = [(r["true_snr_db"], r["snr_est_db"]) for r in frames
             if num(r.get("true_snr_db")) and num(r.get("snr_est_db"))]
    measured = []
    for r in frames:
        if r.get("tx_symbols") is True and num(r.get("snr_est_db")) and len(measured) < 5000:
            try:
                with np.load(ds / str(r["shard"]), allow_pickle=False) as z:
                    err = float(np.mean(np.abs(z["rx_symbols"] - z["tx_symbols"]) ** 2))
                if np.isfinite(err):
                    measured.append((r["snr_est_db"], -10 * np.log10(max(err, 1e-12))))
            except Exception:       # a damaged shard: `dataset check` names it
                continue
    summary = {
        "frames": len(rows), "payload_frames": len(frames),
        "side_frames": len(rows) - len(frames),
        "recordings": len({str(r.get("recording")) for r in rows}),
        "sessions": len({str(r.get("session")) for r in rows}),
        "images": len({(str(r.get("session")), str(r.get("image_id"))) for r in rows}),
        "with_tx_symbols": sum(bool(r.get("tx_symbols")) for r in rows),
        "with_true_snr": len(pairs),
        "keeps": sorted({r["keep"] for r in frames if type(r.get("keep")) is int}),
        "model_ids": sorted({str(r.get("model_id")) for r in rows}),
        "snr_est_db": {"min": float(est.min()), "mean": float(est.mean()),
                       "max": float(est.max())} if est.size else None,
        "manifest_problems": len(problems)}
    if pairs:
        t, e = np.array(pairs).T
        summary["est_minus_true_db"] = {"mean": float(np.mean(e - t)),
                                        "rms": float(np.sqrt(np.mean((e - t) ** 2)))}
    if measured:
        e, m = np.array(measured).T
        summary["measured_snr_db"] = {"mean": float(np.mean(m)),
                                      "est_minus_measured_mean": float(np.mean(e - m))}
    if plot is not None and frames:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        ax = axes[0]
        ax.hist(est, bins=30, alpha=0.7, label="estimated SNR")
        if pairs:
            ax.hist(np.array(pairs)[:, 0], bins=30, alpha=0.5, label="true SNR")
        ax.set_xlabel("SNR (dB)")
        ax.set_ylabel("frames")
        ax.legend(fontsize=8)
        ax.set_title(f"{len(frames)} frames, {summary['recordings']} recording(s)")
        ax = axes[1]
        if pairs:
            t, e = np.array(pairs).T
            ax.plot(t, e, ".", ms=3, label="estimate vs true")
        if measured:
            e, m = np.array(measured).T
            ax.plot(m, e, "x", ms=3, label="estimate vs measured from TX symbols")
        lo, hi = (float(est.min()) - 1, float(est.max()) + 1) if est.size else (0, 1)
        ax.plot([lo, hi], [lo, hi], "k:", lw=1)
        ax.set_xlabel("true / measured SNR (dB)")
        ax.set_ylabel("estimated SNR (dB)")
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        tmp = plot.with_name(plot.stem + ".tmp.png")
        fig.savefig(tmp, dpi=80)
        plt.close(fig)
        os.replace(tmp, plot)
        summary["plot"] = str(plot)
    return summary
