"""``semcom rx --gui`` (issue 14): the Qt receiver view run offscreen on a cf32 file and on a
ZMQ input through the CLI, its radio variants' one-line no-device error, and its refusals."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
OFFSCREEN = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def _semcom(*args, timeout=120, env=OFFSCREEN):
    return subprocess.run([PY, "-m", "semcom", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def _tx_file(tmp_path, n=2):
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=n, size=(64, 64))
    iq = tmp_path / "tx.cf32"
    p = _semcom("tx", "--images", str(images), "--model", str(model), "--file", str(iq),
                "--frame-symbols", "480")
    assert p.returncode == 0, p.stderr
    return model, images, iq


def test_rx_gui_on_a_file_plays_it_once_and_writes_what_rx_writes(tmp_path):
    model, images, iq = _tx_file(tmp_path)
    out = tmp_path / "rx"
    p = _semcom("rx", "--gui", "--file", str(iq), "--model", str(model), "--out", str(out),
                "--reference", str(images), "--samp-rate", "4e6")
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("rx: image") == 2            # the file is not looped
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["images_complete"] == 2
    assert all(im["psnr_db"] > 5 for im in summary["images"])
    assert len(list(out.glob("image_*.png"))) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rx_gui_on_zmq_receives_from_semcom_tx(tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=1, size=(64, 64))
    addr = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "rx"
    rx = subprocess.Popen([PY, "-m", "semcom", "rx", "--gui", "--iq-in", addr, "--model",
                           str(model), "--out", str(out), "--num-images", "1",
                           "--idle-timeout", "60"], cwd=ROOT, env=OFFSCREEN,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        tx = _semcom("tx", "--images", str(images), "--model", str(model), "--iq-out", addr,
                     "--frame-symbols", "480")
        assert tx.returncode == 0, tx.stderr[-2000:]
        stdout, stderr = rx.communicate(timeout=90)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert rx.returncode == 0, stderr[-2000:]
    assert stdout.count("rx: image") == 1
    assert json.loads((out / "summary.json").read_text())["counters"]["images_complete"] == 1


def test_rx_gui_stops_on_sigterm_within_2_s(tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    rx = subprocess.Popen([PY, "-m", "semcom", "rx", "--gui", "--iq-in",
                           f"tcp://127.0.0.1:{_free_port()}", "--model", str(model), "--out",
                           str(tmp_path / "rx")], cwd=ROOT, env=OFFSCREEN,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # up: the graph is built once its frame log exists (a loaded machine takes a while)
        deadline = time.monotonic() + 90
        while not (tmp_path / "rx" / "frames.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)               # and Qt's loop is running
        assert rx.poll() is None
        rx.terminate()
        t0 = time.monotonic()
        rx.wait(timeout=10)
        assert time.monotonic() - t0 < 2.0
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert rx.returncode == 143
    assert (tmp_path / "rx" / "summary.json").exists()


def test_rx_gui_with_a_radio_and_no_device_is_one_line_exit_2(tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    for radio in ("pluto:ip:192.0.2.1", "usrp:type=nosuchdevice"):
        p = _semcom("rx", "--gui", "--radio", radio, "--model", str(model), "--out",
                    str(tmp_path / "rx"), timeout=30)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot open the" in lines[0], p.stderr


def test_rx_gui_without_a_display_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    p = _semcom("rx", "--gui", "--file", str(tmp_path / "x.cf32"), env=env, timeout=30)
    assert p.returncode == 2
    assert "--gui needs a display" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_radio_gui_graphs_are_what_the_script_makes_of_the_gui_and_radio_graphs():
    import importlib.util

    import yaml
    spec = importlib.util.spec_from_file_location("make_gui_radio",
                                                  ROOT / "scripts" / "make_gui_radio.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for kind, dev in (("pluto", "iio_pluto_source"), ("usrp", "uhd_usrp_source")):
        made = mod.variant(kind)
        committed = yaml.safe_load((ROOT / "flowgraphs" / f"semcom_rx_gui_{kind}.grc")
                                   .read_text())
        assert committed == made, f"run scripts/make_gui_radio.py ({kind})"
        ids = {b["name"]: b["id"] for b in made["blocks"]}
        assert ids["source"] == dev and "throttle" not in ids
        assert {"spectrum", "constellation", "image_view", "monitor"} <= set(ids)
        # the radio feeds the receiver through the DC blocker
        assert ["source", "0", "dc_blocker", "0"] in made["connections"]
        assert ["dc_blocker", "0", "receiver", "0"] in made["connections"]


@pytest.mark.parametrize("kind", ["pluto", "usrp"])
def test_rx_gui_with_a_radio_decodes_with_only_the_device_source_faked(kind, tmp_path):
    model, images, iq = _tx_file(tmp_path, n=1)
    out = tmp_path / "rx"
    p = subprocess.run([PY, str(ROOT / "tests" / "gui_radio_smoke.py"), kind, str(iq),
                        str(model), str(out)], capture_output=True, text=True, timeout=120,
                       cwd=ROOT, env=dict(OFFSCREEN, PYTHONPATH=str(ROOT)))
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("rx: image") >= 1       # the file loops: one more may land
    calls = json.loads(p.stdout.strip().splitlines()[-1])
    names = [c[0] for c in calls]
    if kind == "pluto":
        assert ["set_len_tag_key", ["''"]] in calls or ["set_len_tag_key", [""]] in calls
        assert ["set_gain_mode", ["0", "manual"]] in calls
    else:
        assert "set_center_freq" in names and ["set_gain", ["20.0", "0"]] in calls
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["images_complete"] >= 1
    assert summary["radio"]["samples"] > 0
