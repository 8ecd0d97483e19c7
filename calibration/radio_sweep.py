"""The TX gain sweep, driven (``semcom calibrate radio --sweep G1,G2,... --radio ...``): set a
gain, let it settle, collect the RX's estimated SNR over some frames, next gain; the points go to
:func:`calibration.radio_cal.gain_fit`. The loop knows nothing of radios: it is given a gain
setter and a source of new frame events (the RX's frame-log records), so the same loop drives a
device (:mod:`apps.radio_sweep`: the cable graph's ``set_tx_atten``/``set_tx_gain``) and the
channel emulator (its control socket's ``snr_db``: the test, with a known gain-to-SNR map).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


def parse_gains(spec: str) -> list[float]:
    """``"-40,-30,-20"`` -> gains in dB (ValueError naming what is wrong)."""
    out = []
    for item in str(spec).split(","):
        try:
            g = float(item)
        except ValueError:
            raise ValueError(f"{item.strip()!r} is not a gain in dB") from None
        if not math.isfinite(g) or abs(g) > 100:
            raise ValueError(f"{item.strip()!r}: a gain is a finite number of dB within 100")
        out.append(g)
    if len(set(out)) < 2:
        raise ValueError("a gain sweep needs at least two different gains")
    return out


def _snrs(events: list[dict]) -> list[float]:
    return [float(e["snr_est_db"]) for e in events
            if e.get("event") == "frame" and isinstance(e.get("snr_est_db"), (int, float))
            and math.isfinite(e["snr_est_db"])]


def sweep(gains: list[float], set_gain: Callable[[float], None],
          new_events: Callable[[], list[dict]], frames: int = 8, settle_s: float = 1.0,
          step_timeout_s: float = 30.0, should_stop: Callable[[], bool] = lambda: False,
          on_point: Callable[[float, float, int], None] | None = None) -> dict:
    """For each gain: ``set_gain(g)``, wait ``settle_s`` and drop the frames meanwhile (sent at
    the previous gain), then collect ``frames`` frames' estimated SNR (``new_events()`` returns
    the frame-log records since its last call) -> ``{"points": [(gain, median SNR)],
    "frames": {gain: n}, "events": [all frame events kept]}``. A gain that gives no frame within
    ``step_timeout_s`` is left out (named in ``"missed"``): the TX saturates or is too weak."""
    points, counts, missed, kept = [], {}, [], []
    for g in gains:
        if should_stop():
            break
        set_gain(g)
        t_end = time.monotonic() + settle_s
        while time.monotonic() < t_end and not should_stop():
            new_events()
            time.sleep(0.05)
        new_events()
        got: list[float] = []
        t_end = time.monotonic() + step_timeout_s
        while len(got) < frames and time.monotonic() < t_end and not should_stop():
            ev = new_events()
            kept += [e for e in ev if e.get("event") == "frame"]
            got += _snrs(ev)
            if len(got) < frames:
                time.sleep(0.05)
        if got:
            points.append((g, float(np.median(got))))
            counts[g] = len(got)
            if on_point is not None:
                on_point(g, points[-1][1], len(got))
        else:
            missed.append(g)
    return {"points": points, "frames": counts, "missed": missed, "events": kept}
