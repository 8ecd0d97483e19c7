"""Radio calibration math (issue 14): the carrier offset from the preamble over many frames, and
the TX gain (or attenuation) to SNR map, stored per device under ``calibration/devices/``.

Inputs are the RX's frame logs (``frames.jsonl``: one ``frame`` event per decoded frame, with
the receiver's ``cfo_hz`` from the preamble and its ``snr_est_db``), so the same math runs on a
radio's output and on the channel emulator's (where the CFO and the SNR are known: the tests).

- :func:`cfo_estimate`: median of the per-frame CFO (robust to a few bad frames), its spread
  (1.4826 x MAD) and the offset in ppm of the carrier. The correction is ``freq_offset_hz``:
  tune the RX to ``freq + cfo_hz`` (or the TX to ``freq - cfo_hz``); for a Pluto the same as an
  ``xo_correction`` of ``-ppm`` of its 40 MHz reference.
- :func:`gain_fit`: least-squares line ``snr = slope * gain + intercept`` over the sweep's
  points, dropping from the top the points that fall more than ``sat_db`` below the line
  (saturation: a compressed TX or RX no longer gains SNR), so that ``gain_for_snr`` inverts the
  linear part only. A Pluto's attenuation is a negative gain (``gain = -atten``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

DEVICE_DIR = Path(__file__).resolve().parent / "devices"
VERSION = 1


def read_frames(path) -> list[dict]:
    """The ``frame`` events of a frame log (malformed lines skipped)."""
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("event") == "frame":
            out.append(rec)
    return out


def cfo_estimate(frames: list[dict], freq_hz: float) -> dict:
    """-> ``{cfo_hz, cfo_std_hz, cfo_ppm, frames}`` over the frames' ``cfo_hz``."""
    v = np.array([f["cfo_hz"] for f in frames
                  if isinstance(f.get("cfo_hz"), (int, float)) and math.isfinite(f["cfo_hz"])],
                 float)
    if v.size == 0:
        raise ValueError("no frame with a carrier-offset estimate")
    med = float(np.median(v))
    spread = float(1.4826 * np.median(np.abs(v - med)))
    return {"cfo_hz": round(med, 1), "cfo_std_hz": round(spread, 1),
            "cfo_ppm": round(med / freq_hz * 1e6, 4) if freq_hz > 0 else None,
            "frames": int(v.size)}


def gain_fit(points: list[tuple[float, float]], sat_db: float = 1.5) -> dict:
    """``points``: (gain dB, median estimated SNR dB) pairs. -> ``{slope, intercept_db,
    max_linear_gain_db, saturated: [gains], points}``."""
    pts = sorted((float(g), float(s)) for g, s in points)
    if len(pts) < 2:
        raise ValueError("a gain sweep needs at least two points")
    use = list(pts)
    dropped = []
    while len(use) >= 3:            # the top point against the line through the others
        g, s = np.array(use[:-1]).T
        slope, icpt = np.polyfit(g, s, 1)
        if use[-1][1] < slope * use[-1][0] + icpt - sat_db:
            dropped.insert(0, use.pop())
            continue
        break
    g, s = np.array(use).T
    slope, icpt = np.polyfit(g, s, 1)
    return {"slope": round(float(slope), 4), "intercept_db": round(float(icpt), 3),
            "max_linear_gain_db": float(g.max()), "saturated": [p[0] for p in dropped],
            "points": [[round(a, 3), round(b, 3)] for a, b in pts]}


def gain_for_snr(fit: dict, snr_db: float) -> float:
    """The gain that gives ``snr_db`` on the linear part (capped at its top)."""
    g = (snr_db - fit["intercept_db"]) / fit["slope"]
    return float(min(g, fit["max_linear_gain_db"]))


def device_path(serial: str, folder: Path | None = None) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(serial)).strip(".") or "unknown"
    return Path(folder or DEVICE_DIR) / f"{name}.json"


def save(serial: str, kind: str, freq_hz: float, cfo: dict | None, gain: dict | None,
         folder: Path | None = None) -> Path:
    """Writes (atomically) ``calibration/devices/<serial>.json``; -> its path."""
    path = device_path(serial, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": VERSION, "serial": str(serial), "kind": kind, "freq_hz": freq_hz,
           "cfo": cfo, "freq_offset_hz": cfo["cfo_hz"] if cfo else 0.0,
           "gain_to_snr": gain}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)
    return path


def load(serial: str, folder: Path | None = None) -> dict | None:
    """The stored calibration of a device, None when there is none (ValueError when bad)."""
    path = device_path(serial, folder)
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise ValueError(f"{path}: not a semcom device calibration (version {VERSION})")
    return doc


def run(args) -> int:
    """``semcom calibrate radio``: CFO and gain-to-SNR from RX frame logs, stored per device."""
    from semcom import validate as v

    args.freq = v.finite("--freq", args.freq, 1e6, 1e11, "Hz")
    if not args.frames and not args.sweep:
        raise v.OptionError("calibrate radio: give --frames (CFO) and/or --sweep (gain)")
    if not args.serial:
        raise v.OptionError("calibrate radio: give --serial (the device's serial number), or "
                            "--radio to drive the sweep on the device and read it there")
    cfo = gain = None
    if args.frames:
        v.input_file("--frames", args.frames)
        try:
            cfo = cfo_estimate(read_frames(args.frames), args.freq)
        except ValueError as exc:
            raise v.OptionError(f"--frames {args.frames}: {exc}") from None
        print(f"calibrate radio: CFO {cfo['cfo_hz']:+.1f} Hz ({cfo['cfo_ppm']:+.3f} ppm), "
              f"spread {cfo['cfo_std_hz']:.1f} Hz over {cfo['frames']} frames")
    if args.sweep:
        pts = []
        for item in args.sweep.split(","):
            g, sep, path = item.partition("=")
            if not sep:
                raise v.OptionError(f"--sweep: {item!r} is not GAIN=FRAMES.jsonl (a list of "
                                    "gains alone needs --radio)")
            gdb = v.finite("--sweep gain", g, -100, 100, "dB")
            v.input_file("--sweep", path)
            snr = [f["snr_est_db"] for f in read_frames(path)
                   if isinstance(f.get("snr_est_db"), (int, float))]
            if not snr:
                raise v.OptionError(f"--sweep {path}: no decoded frame")
            pts.append((gdb, float(np.median(snr))))
        try:
            gain = gain_fit(pts)
        except ValueError as exc:
            raise v.OptionError(f"--sweep: {exc}") from None
        print(f"calibrate radio: SNR = {gain['slope']:.3f} x gain {gain['intercept_db']:+.2f} "
              f"dB, linear up to {gain['max_linear_gain_db']:g} dB"
              + (f" (saturated at {gain['saturated']})" if gain["saturated"] else ""))
    path = save(args.serial, args.kind, args.freq, cfo, gain,
                Path(args.out) if args.out else None)
    print(f"calibrate radio: wrote {path}")
    return 0
