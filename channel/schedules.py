"""SNR schedules of the channel emulator: steps in time, a ramp, a per-image random walk, a CSV
trace by image, frame or time (``make_schedule(kind, spec, seed)``, kinds :data:`KINDS`)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from channel.impairments import LIMITS
from semcom.validate import OptionError, finite, positive


class Schedule:
    """SNR over time. ``at(burst, image_id, frame_idx, t)`` -> SNR (dB) or None (keep)."""

    def at(self, burst: int, image_id: int | None, frame_idx: int | None, t: float):
        return None


class Steps(Schedule):
    """``"T0:S0,T1:S1,..."``: SNR S_i from time T_i seconds on."""

    def __init__(self, spec: str):
        pts = []
        for p in (p for p in spec.split(",") if p.strip()):
            a, sep, b = p.partition(":")
            if not sep:
                raise OptionError(f"--snr-steps {spec!r}: expected T:S pairs (seconds:dB), "
                                  f"got {p!r}")
            pts.append((finite("--snr-steps time", a, 0, 1e9, "s"), _snr("--snr-steps", b)))
        if not pts:
            raise OptionError(f"--snr-steps {spec!r}: expected T0:S0,T1:S1,... (seconds:dB)")
        self.points = sorted(pts)

    def at(self, burst, image_id, frame_idx, t):
        cur = None
        for t0, s in self.points:
            if t >= t0:
                cur = s
        return cur


class Ramp(Schedule):
    """``"FROM,TO,SECONDS"``: linear in time, then holds TO."""

    def __init__(self, spec: str):
        a, b, T = _fields("--snr-ramp", spec, "FROM,TO,SECONDS")
        self.a, self.b = _snr("--snr-ramp", a), _snr("--snr-ramp", b)
        self.T = positive("--snr-ramp SECONDS", T, 1e9, "s")

    def at(self, burst, image_id, frame_idx, t):
        return self.a + (self.b - self.a) * min(1.0, t / self.T)


class RandomWalk(Schedule):
    """``"LO,HI,STEP"``: per image, a seeded random walk between LO and HI dB."""

    def __init__(self, spec: str, seed: int):
        lo, hi, step = _fields("--snr-walk", spec, "LO,HI,STEP")
        self.lo, self.hi = _snr("--snr-walk LO", lo), _snr("--snr-walk HI", hi)
        if self.hi < self.lo:
            raise OptionError(f"--snr-walk {spec!r}: HI must not be below LO")
        self.step = finite("--snr-walk STEP", step, 0, 100, "dB")
        self.seed = seed
        self.values: list[float] = []

    def value(self, i: int) -> float:
        while len(self.values) <= i:
            j = len(self.values)
            if j == 0:
                nxt = (self.lo + self.hi) / 2
            else:
                step = np.random.default_rng([self.seed, 77, j]).normal(0, self.step)
                nxt = self.values[-1] + step
                if not self.lo <= nxt <= self.hi:      # reflect at the bounds
                    nxt = self.values[-1] - step
            self.values.append(float(np.clip(nxt, self.lo, self.hi)))
        return self.values[i]

    def at(self, burst, image_id, frame_idx, t):
        return None if image_id is None else self.value(image_id)


class Trace(Schedule):
    """CSV with a header row: ``snr_db`` and one of ``image``, ``frame`` or ``time_s``.
    Rows are looked up by that index; a trace that runs out wraps around."""

    def __init__(self, path: str | Path):
        try:
            with open(path, newline="") as f:
                rd = csv.DictReader(f)
                rows = [(rd.line_num, r) for r in rd]
        except FileNotFoundError:
            raise OptionError(f"--snr-trace {path}: no such file") from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise OptionError(f"--snr-trace {path}: cannot read it as CSV: {exc}") from None
        if not rows or "snr_db" not in rows[0][1]:
            raise OptionError(f"{path}: needs a header row with snr_db")
        keys = [k for k in ("image", "frame", "time_s") if k in rows[0][1]]
        if len(keys) != 1:
            raise OptionError(f"{path}: needs exactly one of the columns image, frame, time_s")
        self.key = keys[0]
        self.index = np.array([finite(f"{path}: line {n}: {self.key}", r[self.key], 0, 1e12)
                               for n, r in rows])
        self.snr = np.array([_snr(f"{path}: line {n}: snr_db", r["snr_db"]) for n, r in rows])
        if self.key == "time_s" and np.any(np.diff(self.index) <= 0):
            raise OptionError(f"{path}: time_s must increase from row to row")

    def at(self, burst, image_id, frame_idx, t):
        if self.key == "image":
            return None if image_id is None else float(self.snr[image_id % len(self.snr)])
        if self.key == "frame":
            return float(self.snr[burst % len(self.snr)])
        span = self.index[-1] + (self.index[-1] - self.index[-2] if len(self.index) > 1 else 1)
        tt = t % span
        return float(self.snr[max(0, np.searchsorted(self.index, tt, side="right") - 1)])


def _snr(what: str, v) -> float:
    lo, hi, unit = LIMITS["snr_db"]
    return finite(f"{what} SNR", v, lo, hi, unit)


def _fields(what: str, spec: str, form: str) -> list[str]:
    parts = spec.split(",")
    if len(parts) != len(form.split(",")):
        raise OptionError(f"{what} {spec!r}: expected {form}")
    return parts


def make_schedule(kind: str, spec: str, seed: int) -> Schedule:
    return {"steps": lambda: Steps(spec), "ramp": lambda: Ramp(spec),
            "walk": lambda: RandomWalk(spec, seed), "trace": lambda: Trace(spec)}[kind]()


KINDS = ("steps", "ramp", "walk", "trace")
# the form of each kind's spec (the CLI's help for --snr-<kind>)
FORMS = {"steps": "T0:S0,T1:S1,... (seconds:dB)", "ramp": "FROM,TO,SECONDS",
         "walk": "LO,HI,STEP: per-image random walk",
         "trace": "CSV: snr_db with image, frame or time_s"}
