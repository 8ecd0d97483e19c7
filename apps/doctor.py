"""``semcom doctor``: is this machine ready to run semcom, and which radios are attached?

Reports the versions of GNU Radio, torch, numpy, UHD and libiio, lists attached USRPs (UHD find)
and PlutoSDRs (libiio scan, USB and, where Avahi runs, network) and checks that ``grcc`` can
generate a flowgraph. UHD and libiio are probed in subprocesses with time-outs: ``gnuradio.uhd``
and ``import uhd`` clash in one process, and a device scan can hang.

Exit status: 0 when every required piece is there (radios are optional), 1 otherwise, with one
line per missing piece saying what to do.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT_S = 12.0
FIX = "run `make setup` (or scripts/setup.sh) from the repository root"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _module_version(modname: str, attr: str = "__version__") -> str:
    mod = importlib.import_module(modname)
    value = getattr(mod, attr)
    return value() if callable(value) else str(value)


def check_python_module(label: str, modname: str, attr: str = "__version__",
                        required: bool = True) -> Check:
    try:
        return Check(label, True, _module_version(modname, attr), required)
    except Exception as exc:  # ImportError and anything a broken install raises
        return Check(label, False, f"cannot import {modname}: {exc}; {FIX}", required)


def check_numpy() -> Check:
    c = check_python_module("numpy", "numpy")
    if c.ok and not c.detail.startswith("1."):
        return Check("numpy", False, f"numpy {c.detail}: GNU Radio 3.10's bindings need numpy<2; "
                     f"{FIX}")
    return c


def check_gnuradio() -> Check:
    try:
        from gnuradio import gr
        for sub in ("blocks", "digital", "fft", "channels", "zeromq", "pdu"):
            importlib.import_module(f"gnuradio.{sub}")
        return Check("GNU Radio", True, gr.version())
    except Exception as exc:
        return Check("GNU Radio", False,
                     f"cannot import gnuradio ({exc}); it comes from Debian's `gnuradio` package "
                     f"and the venv must use /usr/bin/python3 with --system-site-packages; {FIX}")


def check_torch() -> Check:
    try:
        import torch
        return Check("torch", True, f"{torch.__version__} (threads {torch.get_num_threads()}, "
                     f"cuda {'yes' if torch.cuda.is_available() else 'no'})")
    except Exception as exc:
        return Check("torch", False, f"cannot import torch ({exc}); {FIX}")


def _probe(code: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Run ``code`` in a fresh interpreter; return (ok, last stdout line or error)."""
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:.0f} s"
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, err
    return True, lines[-1]


UHD_VERSION = "from gnuradio import uhd; print(uhd.get_version_string())"
UHD_FIND = textwrap.dedent("""
    import json, uhd
    print(json.dumps([d.to_string() for d in uhd.find("")]))
""")
IIO_SCAN = textwrap.dedent("""
    import json, iio
    found = {}
    for backend in (b"usb", b"ip"):
        try:
            ctx = iio._create_scan_context(backend, 0)
        except Exception:
            continue          # backend not built in, or Avahi not running
        ptr = iio._POINTER(iio._ContextInfoPtr)()
        try:
            n = iio._get_context_info_list(ctx, iio._byref(ptr))
        except Exception:
            n = 0
        for i in range(n):
            found[iio._context_info_get_uri(ptr[i]).decode()] = (
                iio._context_info_get_description(ptr[i]).decode())
        if n:
            iio._context_info_list_free(ptr)
        iio._destroy_scan_context(ctx)
    print(json.dumps(found))
""")


def with_calibration(device: str) -> str:
    """A device line with what ``semcom calibrate radio`` stored for its serial number."""
    import re

    m = re.search(r"serial=([0-9A-Za-z_.-]+)", device)
    if not m:
        return device
    try:
        from calibration.radio_cal import load
        cal = load(m.group(1))
    except (ValueError, OSError) as exc:
        return f"{device} [calibration unreadable: {exc}]"
    if cal is None:
        return f"{device} [not calibrated: semcom calibrate radio]"
    cfo = cal.get("cfo") or {}
    gain = cal.get("gain_to_snr") or {}
    parts = ([f"CFO {cfo['cfo_hz']:+.0f} Hz at {cal['freq_hz'] / 1e6:g} MHz"] if cfo else []) \
        + ([f"SNR = {gain['slope']:.2f} x gain {gain['intercept_db']:+.1f} dB"] if gain else [])
    return f"{device} [calibrated: {', '.join(parts) or 'empty'}]"


def check_uhd() -> tuple[Check, Check]:
    ok, ver = _probe(UHD_VERSION)
    version = Check("UHD", ok, ver if ok else f"{ver} (python3-uhd; needed only for USRPs)",
                    required=False)
    if not ok:
        return version, Check("USRPs", False, "not scanned: UHD unavailable", required=False)
    ok, out = _probe(UHD_FIND)
    if not ok:
        return version, Check("USRPs", False, f"scan failed: {out}", required=False)
    devs = json.loads(out)
    return version, Check("USRPs", True, "; ".join(map(with_calibration, devs)) if devs else
                          "none attached",
                          required=False)


def check_iio() -> tuple[Check, Check, Check]:
    ok, ver = _probe("import iio; print('%d.%d (%s)' % tuple(iio.version))")
    version = Check("libiio", ok, ver if ok else f"{ver} (python3-libiio; needed only for "
                    "PlutoSDR)", required=False)
    adi = _probe("import adi, iio; print(adi.__version__)")
    pyadi = Check("pyadi-iio", adi[0], adi[1] if adi[0] else f"{adi[1]}; {FIX}", required=False)
    if not ok:
        return version, pyadi, Check("PlutoSDRs", False, "not scanned: libiio unavailable",
                                     required=False)
    ok, out = _probe(IIO_SCAN)
    if not ok:
        return version, pyadi, Check("PlutoSDRs", False, f"scan failed: {out}", required=False)
    found = json.loads(out)
    plutos = [with_calibration(f"{uri} ({desc})") for uri, desc in found.items()
              if "pluto" in desc.lower() or "ad936" in desc.lower()]
    return version, pyadi, Check("PlutoSDRs", True, "; ".join(plutos) if plutos else
                                 "none attached", required=False)


GRC_CHECK = """\
options:
  parameters: {id: semcom_doctor_check, generate_options: no_gui, output_language: python,
    title: semcom doctor check}
  states: {coordinate: [8, 8], rotation: 0, state: enabled}
blocks:
- name: src
  id: blocks_null_source
  parameters: {type: complex}
  states: {coordinate: [8, 100], rotation: 0, state: enabled}
- name: snk
  id: blocks_null_sink
  parameters: {type: complex}
  states: {coordinate: [200, 100], rotation: 0, state: enabled}
connections:
- [src, '0', snk, '0']
metadata: {file_format: 1}
"""


def check_grcc() -> Check:
    grcc = shutil.which("grcc")
    if grcc is None:
        return Check("grcc", False, f"grcc not on PATH (Debian package gnuradio); {FIX}")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "check.grc"
        src.write_text(GRC_CHECK)
        try:
            proc = subprocess.run([grcc, "-o", tmp, str(src)], capture_output=True, text=True,
                                  timeout=PROBE_TIMEOUT_S * 2)
        except subprocess.TimeoutExpired:
            return Check("grcc", False, "grcc timed out")
        out = Path(tmp) / "semcom_doctor_check.py"
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return Check("grcc", False, f"grcc failed: {tail[0]}")
    return Check("grcc", True, f"{grcc} generates Python flowgraphs")


def run_checks() -> list[Check]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        uhd_f = pool.submit(check_uhd)
        iio_f = pool.submit(check_iio)
        grcc_f = pool.submit(check_grcc)
        checks = [
            Check("python", True, f"{sys.version.split()[0]} at {sys.prefix}"),
            check_numpy(),
            check_gnuradio(),
            check_torch(),
            check_python_module("pyzmq", "zmq"),
            check_python_module("scipy", "scipy"),
            check_python_module("Pillow", "PIL"),
            check_python_module("scikit-image", "skimage"),
            check_python_module("sigmf", "sigmf"),
            check_python_module("tqdm", "tqdm"),
        ]
        checks.append(grcc_f.result())
        checks.extend(uhd_f.result())
        checks.extend(iio_f.result())
    return checks


def run(args) -> int:
    t0 = time.monotonic()
    checks = run_checks()
    width = max(len(c.name) for c in checks)
    for c in checks:
        status = "ok" if c.ok else ("FAIL" if c.required else "warn")
        print(f"{status:>4}  {c.name:<{width}}  {c.detail}")
    failed = [c for c in checks if c.required and not c.ok]
    print(f"doctor: {len(checks)} checks in {time.monotonic() - t0:.1f} s")
    if failed:
        print(f"doctor: missing required: {', '.join(c.name for c in failed)}", file=sys.stderr)
        return 1
    print("doctor: ready")
    return 0

