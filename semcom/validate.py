"""One small shared helper for checking untrusted numbers: command-line options, control-socket
values, fields read from files.

Every check returns the cleaned value or raises :class:`OptionError` (a ``ValueError``) with a
one-line message that names the value, what was given, the accepted range and its unit, e.g.
``snr_db must be a finite number in [-50, 100] dB, got 1e+308``. Callers turn it into
``ok: false`` (a control socket) or one line on stderr and exit 2 (a command).
"""

from __future__ import annotations

import errno
import math
import numbers
import os


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


# -- more checks for commands: SNRs, lists, choices, files and folders, ZMQ endpoints ----------
SNR_MIN_DB, SNR_MAX_DB = -50.0, 100.0      # every SNR a user can give, in dB


def snr(name: str, value) -> float:
    """An SNR in dB (the product's convention), finite and within the product's range."""
    return finite(name, value, SNR_MIN_DB, SNR_MAX_DB, "dB")


def floats(name: str, text: str, lo: float | None = None, hi: float | None = None,
           unit: str = "") -> list[float]:
    """A comma-separated list of finite floats, each within ``[lo, hi]``; at least one."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise OptionError(f"{name} needs at least one value{_range_text(lo, hi, unit)}, "
                          f"got {_fmt(text)}")
    return [finite(name, t, lo, hi, unit) for t in items]


def integers(name: str, text: str, lo: int | None = None, hi: int | None = None,
             unit: str = "") -> list[int]:
    """A comma-separated list of integers, each within ``[lo, hi]``; at least one."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise OptionError(f"{name} needs at least one integer{_range_text(lo, hi, unit)}, "
                          f"got {_fmt(text)}")
    return [integer(name, t, lo, hi, unit) for t in items]


def choice(name: str, value, choices) -> str:
    """``value`` when it is one of ``choices`` (names them all otherwise)."""
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(map(str, choices))}, "
                          f"got {_fmt(value)[:40]}")
    return value


def input_file(name: str, path, nonempty: bool = True):
    """An existing, readable regular file (non-empty unless told otherwise) -> Path."""
    from pathlib import Path

    p = Path(path)
    if not str(path):
        raise OptionError(f"{name} needs a file name")
    if not p.exists():
        raise OptionError(f"{name} {p}: no such file")
    if p.is_dir():
        raise OptionError(f"{name} {p}: is a folder, not a file")
    if not p.is_file():
        raise OptionError(f"{name} {p}: not a regular file")
    try:
        with open(p, "rb") as f:
            empty = not f.read(1)
    except OSError as exc:
        raise OptionError(f"{name} {p}: cannot read: {exc.strerror or exc}") from None
    if nonempty and empty:
        raise OptionError(f"{name} {p}: file is empty")
    return p


def input_path(name: str, path):
    """An existing file or folder -> Path."""
    from pathlib import Path

    p = Path(path)
    if not str(path) or not p.exists():
        raise OptionError(f"{name} {p}: no such file or folder")
    return p


def output_dir(name: str, path):
    """A folder that exists or can be made now (parents too) -> Path."""
    from pathlib import Path

    p = Path(path)
    if not str(path):
        raise OptionError(f"{name} needs a folder name")
    if p.exists() and not p.is_dir():
        raise OptionError(f"{name} {p}: exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"{name} {p}: cannot make the folder: {exc.strerror or exc}") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise OptionError(f"{name} {p}: folder is not writable")
    return p


def output_file(name: str, path):
    """A file path whose folder exists or can be made now, and that is not a folder -> Path."""
    from pathlib import Path

    p = Path(path)
    if not str(path):
        raise OptionError(f"{name} needs a file name")
    if p.is_dir():
        raise OptionError(f"{name} {p}: is a folder, not a file")
    output_dir(name, p.parent if str(p.parent) else ".")
    return p


def endpoint(name: str, sock, address: str, bind: bool) -> None:
    """Bind or connect a ZMQ socket; a malformed address or a port in use is an OptionError
    naming the option and the address (the socket is closed then)."""
    import zmq

    try:
        (sock.bind if bind else sock.connect)(address)
    except zmq.ZMQError as exc:
        sock.close(0)
        why = ("address already in use (another process has this port)"
               if exc.errno == errno.EADDRINUSE else exc.strerror)
        raise OptionError(f"{name} {address}: cannot {'bind' if bind else 'connect'}: "
                          f"{why}") from None


def record_dir(name: str, path, force: bool = False):
    """A folder for a new recording or record -> Path: refused when it exists and is not empty
    (unless ``force``), when it is a file, or when it cannot be made or written to (a probe file
    is written: a read-only target fails here, not halfway through a run)."""
    from pathlib import Path

    p = Path(path)
    if not str(path):
        raise OptionError(f"{name} needs a folder name")
    if p.exists() and not p.is_dir():
        raise OptionError(f"{name} {p}: exists and is not a folder")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise OptionError(f"{name} {p}: folder exists and is not empty (a recording is never "
                          "overwritten: use --force, or another folder)")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".semcom-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OptionError(f"{name} {p}: cannot write there: {exc.strerror or exc}") from None
    return p
