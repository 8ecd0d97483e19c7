"""The driven TX gain sweep (``calibration.radio_sweep``, ``semcom calibrate radio --sweep
G1,G2,... --radio``) on the channel emulator: real ``semcom tx``, ``semcom channel`` and
``semcom rx`` processes over ZMQ, the "gain" set through the emulator's control socket with a
known map (SNR = gain + 30 dB); the fit must find that map. Option refusals: one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

from apps.loopback import JsonlTail, free_port
from calibration.radio_cal import gain_fit
from calibration.radio_sweep import parse_gains, sweep

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
OFFSET_DB = 30.0        # the known map: SNR = gain + 30


def test_driven_sweep_on_the_emulator_finds_the_known_gain_to_snr_map(tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=2, size=(64, 64))
    ch_in, rx_in, ctl = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))
    out = tmp_path / "rx"
    py = [PY, "-m", "semcom"]
    procs = [
        subprocess.Popen(py + ["rx", "--iq-in", rx_in, "--model", str(model), "--out",
                               str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen(py + ["channel", "--iq-in", ch_in, "--iq-out", rx_in, "--control",
                               ctl, "--snr", "20", "--seed", "1"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=open(tmp_path / "ch.err", "w"))]
    ctx = zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 30000)
    req.setsockopt(zmq.LINGER, 0)
    try:
        time.sleep(3)
        procs.append(subprocess.Popen(
            py + ["tx", "--images", str(images), "--model", str(model), "--iq-out", ch_in,
                  "--frame-symbols", "480", "--repeat", "100000"], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        req.connect(ctl)
        set_snr = []

        def set_gain(g):
            req.send_string(json.dumps({"set": {"snr_db": g + OFFSET_DB}}))
            reply = json.loads(req.recv_string())
            assert reply["ok"], reply
            set_snr.append(g + OFFSET_DB)
        tail = JsonlTail(out / "frames.jsonl")
        gains = parse_gains("-25,-20,-15,-10")
        res = sweep(gains, set_gain, tail.read, frames=6, settle_s=2.0, step_timeout_s=60)
    except zmq.Again:
        raise AssertionError("the emulator's control socket did not answer: "
                             + (tmp_path / "ch.err").read_text()[-1000:]) from None
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        req.close(0)
    assert set_snr == [5.0, 10.0, 15.0, 20.0]
    assert [g for g, _ in res["points"]] == gains and not res["missed"]
    assert all(n >= 6 for n in res["frames"].values())
    fit = gain_fit(res["points"])
    print(fit)
    assert fit["slope"] == pytest.approx(1.0, abs=0.15)
    assert fit["intercept_db"] == pytest.approx(OFFSET_DB, abs=2.0)
    assert not fit["saturated"]


@pytest.mark.parametrize("spec,msg", [("-10", "at least two"), ("a,b", "'a' is not a gain"),
                                      ("1,nan", "finite"), ("3,3", "at least two different")])
def test_parse_gains_refuses(spec, msg):
    with pytest.raises(ValueError, match=msg):
        parse_gains(spec)


def test_sweep_leaves_out_a_gain_without_frames_and_drops_frames_while_settling():
    t = [0.0]
    queue: list[dict] = []
    now_gain = [None]

    def set_gain(g):
        now_gain[0] = g
        queue.append({"event": "frame", "snr_est_db": 99.0})    # from the previous gain

    def new_events():
        out = list(queue)
        queue.clear()
        if now_gain[0] != -5:           # -5: the TX saturates, nothing decodes
            out.append({"event": "frame", "snr_est_db": now_gain[0] + 12.0})
            out.append({"event": "image", "snr_est_db": 0.0})
        t[0] += 1
        return out
    res = sweep([-20, -5, -10], set_gain, new_events, frames=3, settle_s=0.05,
                step_timeout_s=0.3)
    assert res["points"] == [(-20, -8.0), (-10, 2.0)] and res["missed"] == [-5]


@pytest.mark.slow
def test_calibrate_radio_sweep_drives_the_cable_graph_with_the_device_faked(tmp_path,
                                                                            monkeypatch,
                                                                            capsys):
    """``semcom calibrate radio --radio pluto --sweep=...``: the real cable graph, the Pluto's
    sink and source replaced by a ZMQ cable whose level follows the attenuation (tests/
    qa_radio_cable.py): the SNR must follow the gain dB for dB."""
    from qa_radio_cable import _fake_devices

    from calibration.radio_cal import load
    from semcom.cli import main
    cable = _fake_devices(monkeypatch, "pluto")
    model = tiny_checkpoint(tmp_path / "model.pt")
    rc = main(["calibrate", "radio", "--radio", "pluto", "--sweep=-24,-18,-12", "--model",
               str(model), "--serial", "FAKE1", "--out", str(tmp_path / "dev"),
               "--sweep-frames", "4", "--freq", "915e6"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert [c for c in cable.sinks[0].calls if c[0] == "set_attenuation"][-3:] == [
        ("set_attenuation", (0, 24.0)), ("set_attenuation", (0, 18.0)),
        ("set_attenuation", (0, 12.0))]
    doc = load("FAKE1", tmp_path / "dev")
    fit = doc["gain_to_snr"]
    print(fit)
    assert fit["slope"] == pytest.approx(1.0, abs=0.2)
    assert [p[0] for p in fit["points"]] == [-24.0, -18.0, -12.0]
    # the cable's own CFO (~0: one reference) is printed, not stored over a real one
    assert doc["kind"] == "pluto" and doc["cfo"] is None
    assert "CFO over the cable" in out and "not stored" in out
    assert out.count("calibrate radio: gain") == 3


def test_driven_sweep_stops_on_sigterm_within_2_s_and_writes_nothing(tmp_path):
    import os
    import signal

    model = tiny_checkpoint(tmp_path / "model.pt")
    out = tmp_path / "dev"
    p = subprocess.Popen([PY, str(ROOT / "tests" / "cable_smoke.py"), "sweep", "", str(model),
                          str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'tests'}"))
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "sweeping" not in line and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                break
        assert "sweeping -30, -20, -10, 0 dB" in line, p.stderr.read()[-2000:]
        time.sleep(2)               # inside the first gain (100000 frames: it never ends one)
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        p.wait(timeout=15)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 143, p.stderr.read()[-2000:]
    assert took < 2.0, took
    assert not out.exists() or not list(out.glob("*.json"))      # nothing half-written
