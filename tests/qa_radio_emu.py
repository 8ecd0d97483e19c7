"""The Pluto path against ``iio-emu`` (an emulated PlutoSDR served by libiio's network
backend), when that binary is on PATH (``pytest -m emu``; skipped otherwise, never vendored).
An emulated device answers the context, attribute and channel calls gr-iio makes when it
opens a Pluto; it carries no RF, so these tests check opening and closing, not images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from phy_helpers import tiny_checkpoint

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


@pytest.mark.emu
def test_rx_opens_the_emulated_pluto_and_ends_cleanly(iio_emu, tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    out = tmp_path / "rx"
    p = subprocess.run([PY, "-m", "semcom", "rx", "--radio", f"pluto:{iio_emu}", "--model",
                        str(model), "--out", str(out), "--idle-timeout", "3"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "cannot open" not in p.stderr, p.stderr
    assert p.returncode == 0, p.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["radio"]["radio"] == f"PlutoSDR ({iio_emu})"
    assert summary["images"] == []          # no RF: nothing decoded, nothing invented


@pytest.mark.emu
def test_probe_finds_the_emulated_pluto(iio_emu):
    from semcom import radio
    radio.probe(radio.parse(f"pluto:{iio_emu}"))      # RadioError if it could not open it
