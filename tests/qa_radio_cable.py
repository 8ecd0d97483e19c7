"""``semcom loopback --radio pluto|usrp --cable`` (issue 14): the cable graphs
(``flowgraphs/semcom_cable_{pluto,usrp}.grc``) run by the CLI with the device blocks, and only
them, replaced: the "cable" is a real ZMQ PUSH/PULL pair of GNU Radio blocks (plus a little
noise), so the TX chain's padded/burst stream really reaches the RX chain and images arrive.
Without a device the CLI says so in one line (exit 2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gnuradio import analog, blocks, gr, zeromq
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
NOISE = 0.01            # complex noise amplitude on the cable (bursts are 0.25 RMS: ~28 dB)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cable:
    """Both ends of a fake device: what its sink is given comes out of its source."""

    def __init__(self):
        self.addr = f"tcp://127.0.0.1:{_port()}"
        self.sinks, self.sources = [], []


def _recorder(name):
    def setter(self, *a):
        self.calls.append((name, a))
    return setter


class _TxEnd(gr.hier_block2):
    def __init__(self, cable, *args):
        gr.hier_block2.__init__(self, "fake_tx", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        self.args, self.calls = args, []
        self.push = zeromq.push_sink(gr.sizeof_gr_complex, 1, cable.addr, 100, False, -1)
        self.level = blocks.multiply_const_cc(1.0)      # the TX gain / attenuation
        self.connect(self, self.level, self.push)
        self.message_port_register_hier_out("async_msgs")


class _RxEnd(gr.hier_block2):
    def __init__(self, cable, *args):
        gr.hier_block2.__init__(self, "fake_rx", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.args, self.calls = args, []
        self.pull = zeromq.pull_source(gr.sizeof_gr_complex, 1, cable.addr, 100, False, -1)
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, NOISE, 7)
        self.add = blocks.add_cc()
        self.connect(self.pull, (self.add, 0))
        self.connect(self.noise, (self.add, 1))
        self.connect(self.add, self)

    def get_usrp_info(self, chan=0):
        return {"mboard_serial": "F00D"}


for _name in ("set_len_tag_key", "set_bandwidth", "set_frequency", "set_samplerate",
              "set_attenuation", "set_filter_params", "set_samp_rate", "set_center_freq",
              "set_antenna", "set_gain", "set_gain_mode", "set_quadrature", "set_rfdc",
              "set_bbdc", "set_rx_agc", "set_time_now"):
    setattr(_TxEnd, _name, _recorder(_name))
    setattr(_RxEnd, _name, _recorder(_name))


def _set_attenuation(self, chan, atten_db):         # Pluto: the level falls with attenuation
    self.calls.append(("set_attenuation", (chan, atten_db)))
    self.level.set_k(10 ** (-atten_db / 20))


def _set_gain(self, gain_db, chan=0):               # USRP: the level rises with gain
    self.calls.append(("set_gain", (gain_db, chan)))
    self.level.set_k(10 ** (gain_db / 20))


_TxEnd.set_attenuation, _TxEnd.set_gain = _set_attenuation, _set_gain


def _fake_devices(monkeypatch, kind) -> _Cable:
    """gr-iio's / gr-uhd's device blocks -> the two ends of one cable (nothing else faked)."""
    cable = _Cable()

    def sink(*a, **kw):
        cable.sinks.append(_TxEnd(cable, *a))
        return cable.sinks[-1]

    opened = []

    def source(*a, **kw):           # semcom.radio.probe opens it first and lets it go
        opened.append(a)
        if len(opened) == 1:
            return blocks.null_source(gr.sizeof_gr_complex)
        cable.sources.append(_RxEnd(cable, *a))
        return cable.sources[-1]
    if kind == "pluto":
        from gnuradio import iio
        monkeypatch.setattr(iio, "fmcomms2_sink_fc32", sink)
        monkeypatch.setattr(iio, "fmcomms2_source_fc32", source)
        monkeypatch.setattr(iio, "get_pluto_uri", lambda: "usb:fake")
    else:
        from gnuradio import uhd
        monkeypatch.setattr(uhd, "usrp_sink", sink)
        monkeypatch.setattr(uhd, "usrp_source", source)
    return cable


@pytest.mark.parametrize("kind", ["pluto", "usrp"])
def test_cable_loopback_images_arrive_through_the_cable_graph(kind, tmp_path, monkeypatch,
                                                              capsys):
    from semcom.cli import main
    cable = _fake_devices(monkeypatch, kind)
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=2, size=(64, 64))
    out = tmp_path / "out"
    gain = ["--tx-atten", "10"] if kind == "pluto" else ["--tx-gain", "5"]
    rc = main(["loopback", "--radio", kind, "--cable", "--images", str(images), "--model",
               str(model), "--out", str(out), "--frame-symbols", "480", "--freq", "915e6",
               "--rx-gain", "20", "--timeout", "120", *gain])
    stdout = capsys.readouterr().out
    assert rc == 0, stdout
    assert stdout.count("loopback: image") == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images_sent"] == 2 and summary["end"] == "every image arrived"
    assert summary["counters"]["images_complete"] == 2
    assert all(im["psnr_db"] > 5 and not im.get("lost") for im in summary["images"])
    assert all("radio" in im for im in summary["images"])
    assert len(list((out / "rx").glob("image_*.png"))) == 2
    assert (out / "report.png").stat().st_size > 10_000
    tx_side = summary["radio"]["tx"]
    if kind == "pluto":          # every frame's burst left in whole buffers
        assert tx_side["bursts"] == summary["counters"]["frames_decoded"]
        assert tx_side["padded"] >= 0 and "TX bursts" in stdout
    else:
        assert tx_side["underflows"] == 0 and "TX underflows 0" in stdout
    # one device, opened by the graph's sink and source, tuned alike
    (tx,), (rx,) = cable.sinks, cable.sources
    calls_tx, calls_rx = dict(tx.calls), dict(rx.calls)
    if kind == "pluto":
        assert calls_tx["set_frequency"] == calls_rx["set_frequency"] == (915_000_000,)
        assert calls_tx["set_attenuation"] == (0, 10.0)
        assert calls_rx["set_gain_mode"][-1] == "manual" or \
            ("set_gain_mode", (0, "manual")) in rx.calls
        assert ("set_gain", (0, 20.0)) in rx.calls
    else:
        assert calls_tx["set_center_freq"] == calls_rx["set_center_freq"] == (915e6, 0)
        assert calls_tx["set_gain"] == (5.0, 0) and calls_rx["set_gain"] == (20.0, 0)


def test_cable_loopback_closed_loop_reports_reach_the_tx(tmp_path, monkeypatch, capsys):
    from semcom.cli import main
    _fake_devices(monkeypatch, "pluto")
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=3, size=(64, 64))
    out = tmp_path / "out"
    rc = main(["loopback", "--radio", "pluto", "--cable", "--adaptive", "--window", "1",
               "--policy", "fixed",
               "--images", str(images), "--model", str(model), "--out", str(out),
               "--frame-symbols", "480", "--tx-atten", "10", "--timeout", "120"])
    cap = capsys.readouterr()
    assert rc == 0, cap.out + cap.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["images_complete"] == 3
    # lock-step: each image went after the RX's reports on the previous one came back
    assert summary["feedback"]["reports"] >= 3 and summary["feedback"]["bad"] == 0
    # semcom's own refusal while the graph is built is not blamed on the radio
    _fake_devices(monkeypatch, "pluto")         # a new cable: the first run's may linger
    rc = main(["loopback", "--radio", "pluto", "--cable", "--adaptive", "--policy", "target",
               "--images", str(images), "--model", str(model), "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert rc == 2 and "rate table" in err and "cannot open" not in err, err


def test_cable_loopback_digital_scheme_goes_through_the_cable(tmp_path, monkeypatch, capsys):
    from semcom.cli import main
    _fake_devices(monkeypatch, "pluto")
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=2, size=(64, 64))
    out = tmp_path / "out"
    rc = main(["loopback", "--radio", "pluto", "--cable", "--scheme", "digital", "--images",
               str(images), "--model", str(model), "--out", str(out), "--tx-atten", "10",
               "--timeout", "120"])
    cap = capsys.readouterr()
    assert rc == 0, cap.out + cap.err
    s = json.loads((out / "summary.json").read_text())
    assert s["scheme"] == "digital" and s["mcs"] == "auto"
    assert len(s["images"]) == 2 and not any(im.get("lost") for im in s["images"])
    assert all(im.get("mcs") for im in s["images"])          # decoded as digital images
    assert s["feedback"]["reports"] >= 2                      # auto: the loop is closed


def test_cable_loopback_records_the_device_stream_and_what_was_sent(tmp_path, monkeypatch,
                                                                   capsys):
    import warnings

    import numpy as np
    import sigmf

    from semcom.cli import main
    _fake_devices(monkeypatch, "usrp")
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=2, size=(64, 64))
    out, rec_dir = tmp_path / "out", tmp_path / "rec"
    rc = main(["loopback", "--radio", "usrp", "--cable", "--record", str(rec_dir), "--images",
               str(images), "--model", str(model), "--out", str(out), "--frame-symbols", "480",
               "--freq", "915e6", "--tx-gain", "5", "--timeout", "120"])
    cap = capsys.readouterr()
    assert rc == 0, cap.out + cap.err
    s = json.loads((out / "summary.json").read_text())
    frames = s["counters"]["frames_decoded"]
    assert s["recording"]["annotations"] == frames > 0 and s["recording"]["samples"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = sigmf.sigmffile.fromfile(str(rec_dir / "rx.sigmf-meta"))
        rec.validate()
    g = rec.get_global_info()
    assert g["core:hw"].startswith("USRP") and g["core:hw"].endswith("(cable)")
    assert g["semcom:frequency_known"] is True
    assert rec.get_captures()[0]["core:frequency"] == 915e6
    anns = rec.get_annotations()
    assert len(anns) == frames and all(a["semcom:header_status"] == "ok" for a in anns)
    x = rec.read_samples()
    a = anns[-1]
    burst = x[a["core:sample_start"] + 20:a["core:sample_start"] + a["core:sample_count"] - 20]
    assert np.mean(np.abs(burst) ** 2) > 10 * NOISE ** 2      # the burst is in the recording
    sent = [json.loads(x) for x in (rec_dir / "tx" / "sent.jsonl").read_text().splitlines()]
    assert [r["image_id"] for r in sent] == [0, 1]
    assert {r["session"] for r in sent} == {anns[0]["semcom:session"]}


def test_cable_loopback_stops_on_sigterm_within_2_s_and_writes_its_files(tmp_path):
    import os
    import signal
    import time

    model = tiny_checkpoint(tmp_path / "model.pt")
    import numpy as np
    from PIL import Image
    images = tmp_path / "imgs"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), np.uint8)).save(
            images / f"im{i:02d}.png")
    out = tmp_path / "out"
    p = subprocess.Popen([PY, str(ROOT / "tests" / "cable_smoke.py"), str(images), str(model),
                          str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'tests'}"))
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "loopback: image" not in line and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                break
        assert "loopback: image" in line, p.stderr.read()[-2000:]
        assert p.poll() is None, "the run ended before the signal: give it more images"
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        p.wait(timeout=15)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(f"stopped in {took:.2f} s")
    assert p.returncode == 143, p.stderr.read()[-2000:]
    assert took < 2.0, took
    summary = json.loads((out / "summary.json").read_text())
    assert summary["end"] == "interrupted" and 1 <= len(summary["images"]) < 40


def test_cable_loopback_refusals_and_no_device(tmp_path):
    for argv, msg in (
            (["--cable"], "--cable needs --radio"),
            (["--cable", "--radio", "pluto", "--rx-radio", "pluto"], "drop --rx-radio"),
            (["--cable", "--radio", "usrp:type=nosuchdevice"], "cannot open the USRP"),
            (["--cable", "--radio", "pluto:ip:192.0.2.1"], "cannot open the PlutoSDR")):
        p = subprocess.run([PY, "-m", "semcom", "loopback", *argv, "--out",
                            str(tmp_path / "o")], capture_output=True, text=True, timeout=30,
                           cwd=ROOT)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and msg in lines[0], p.stderr
    assert not (tmp_path / "o" / "originals").exists()


def test_cable_graphs_are_what_the_script_makes_of_the_tx_and_rx_graphs():
    import importlib.util

    import yaml
    spec = importlib.util.spec_from_file_location("make_gui_radio",
                                                  ROOT / "scripts" / "make_gui_radio.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for kind, (snk, src) in (("pluto", ("iio_pluto_sink", "iio_pluto_source")),
                             ("usrp", ("uhd_usrp_sink", "uhd_usrp_source"))):
        made = mod.cable(kind)
        committed = yaml.safe_load((ROOT / "flowgraphs" / f"semcom_cable_{kind}.grc")
                                   .read_text())
        assert committed == made, f"run scripts/make_gui_radio.py ({kind})"
        ids = {b["name"]: b["id"] for b in made["blocks"]}
        assert ids["sink"] == snk and ids["radio_source"] == src
        assert ids["source"] == "semcom_image_source" and "semcom_channel_emulator" not in \
            set(ids.values())
        names = [b["name"] for b in made["blocks"]]
        assert len(names) == len(set(names))
        assert ["radio_source", "0", "dc_blocker", "0"] in made["connections"]
        assert ["dc_blocker", "0", "receiver", "0"] in made["connections"]
        # the RX reports go where the TX's rate control listens
        params = {b["name"]: b["parameters"] for b in made["blocks"]}
        assert params["reports"]["address"] == params["rate"]["feedback"] == "feedback"
