"""One small shared helper for checking untrusted numbers: command-line options, control-socket
values, fields read from files.

Every check returns the cleaned value or raises :class:`OptionError` (a ``ValueError``) with a
one-line message that names the value, what was given, the accepted range and its unit, e.g.
``snr_db must be a finite number in [-50, 100] dB, got 1e+308``. Callers turn it into
``ok: false`` (a control socket) or one line on stderr and exit 2 (a command).
"""

from __future__ import annotations

import math
import numbers


class OptionError(ValueError):
    """A user-supplied value is malformed or out of range (one line, names the value)."""


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return repr(x) if isinstance(x, str) else str(x)


def _range_text(lo, hi, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f" in [{_fmt(lo)}, {_fmt(hi)}]{u}"
    if lo is not None:
        return f" >= {_fmt(lo)}{u}"
    if hi is not None:
        return f" <= {_fmt(hi)}{u}"
    return f" ({unit})" if unit else ""


def finite(name: str, value, lo: float | None = None, hi: float | None = None,
           unit: str = "") -> float:
    """``value`` as a finite float within ``[lo, hi]`` (either bound optional)."""
    want = f"{name} must be a finite number{_range_text(lo, hi, unit)}"
    if isinstance(value, bool):
        raise OptionError(f"{want}, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise OptionError(f"{want}, got {_fmt(value)[:40]}") from None
    if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        raise OptionError(f"{want}, got {_fmt(x)}")
    return x


def positive(name: str, value, hi: float | None = None, unit: str = "") -> float:
    """``value`` as a finite float strictly above zero (and at most ``hi``)."""
    x = finite(name, value, None, hi, unit)
    if x <= 0:
        u = f" {unit}" if unit else ""
        top = f" and <= {_fmt(hi)}{u}" if hi is not None else ""
        raise OptionError(f"{name} must be a finite number > 0{u}{top}, got {_fmt(x)}")
    return x


def integer(name: str, value, lo: int | None = None, hi: int | None = None,
            unit: str = "") -> int:
    """``value`` as an int within ``[lo, hi]``; integral floats (``3.0``) and digit strings pass,
    ``3.5``, NaN, booleans do not."""
    want = f"{name} must be an integer{_range_text(lo, hi, unit)}"
    if isinstance(value, bool):
        raise OptionError(f"{want}, got {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    else:
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            raise OptionError(f"{want}, got {_fmt(value)[:40]}") from None
        if not math.isfinite(x) or x != int(x):
            raise OptionError(f"{want}, got {_fmt(value)[:40]}")
        n = int(x)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise OptionError(f"{want}, got {n}")
    return n


def port(name: str, value) -> int:
    """A TCP port number (1..65535)."""
    return integer(name, value, 1, 65535)
