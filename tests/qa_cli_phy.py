"""The TX and RX command lines over a cf32 file, the GRC flowgraphs, and the ZMQ IQ path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from gnuradio import blocks, gr
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

from apps.loopback import free_port

REPO = Path(__file__).resolve().parents[1]


def _semcom(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "semcom", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def test_every_grc_compiles_and_matches_the_committed_top_block():
    from flowgraphs import tools

    assert {p.name for p in tools.grc_files()} >= {"semcom_tx.grc", "semcom_rx.grc"}
    assert tools.check() == []


def test_tx_and_rx_commands_over_a_cf32_file(tmp_path):
    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=2, size=(64, 96))
    iq = tmp_path / "tx.cf32"
    p = _semcom("tx", "--images", str(images), "--model", str(model), "--file", str(iq),
                "--frame-symbols", "480", "--keep", "16")
    assert p.returncode == 0, p.stderr
    assert "2 images, 8 frames" in p.stdout
    x = np.fromfile(iq, dtype=np.complex64)
    assert 0.2 < np.sqrt(np.mean(np.abs(x[np.abs(x) > 0]) ** 2)) < 0.3   # --tx-rms 0.25
    out = tmp_path / "rx"
    p = _semcom("rx", "--file", str(iq), "--model", str(model), "--out", str(out),
                "--reference", str(images))
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("rx: image") == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["frames_decoded"] == 8
    assert summary["counters"]["images_complete"] == 2
    assert [im["keep"] for im in summary["images"]] == [16, 16]
    assert all(im["psnr_db"] > 5 for im in summary["images"])
    lines = (out / "frames.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["event"] == "frame" for line in lines) == 8
    names = sorted(f.name for f in out.glob("image_*.png"))
    assert [n[-9:] for n in names] == ["00000.png", "00001.png"]
    # the TX run's session id is in the names (a restarted TX never overwrites them)
    assert len({n[:11] for n in names}) == 1 and names[0].startswith("image_s")


def test_rx_refuses_frames_of_another_model(tmp_path):
    model = tiny_checkpoint(tmp_path / "a.pt", seed=1)
    other = tiny_checkpoint(tmp_path / "b.pt", seed=2)
    images = make_images(tmp_path / "imgs", n=1, size=(64, 64))
    iq = tmp_path / "tx.cf32"
    assert _semcom("tx", "--images", str(images), "--model", str(model), "--file",
                   str(iq)).returncode == 0
    p = _semcom("rx", "--file", str(iq), "--model", str(other), "--out", str(tmp_path / "rx"))
    assert p.returncode == 0, p.stderr
    c = json.loads((tmp_path / "rx" / "summary.json").read_text())["counters"]
    assert c["model_mismatch"] >= 1 and c["frames_decoded"] == 0
    assert "frame from another model" in p.stderr + p.stdout


def test_zmq_source_drops_foreign_messages_and_never_ends(run_flowgraph):
    from semcom.zmq_source import zmq_iq_source

    addr = f"tcp://127.0.0.1:{free_port()}"     # not a fixed one
    tb = gr.top_block()
    src = zmq_iq_source(addr)
    head = blocks.head(gr.sizeof_gr_complex, 3000)
    snk = blocks.vector_sink_c()
    tb.connect(src, head, snk)
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.connect(addr)
    good = (np.arange(1000) * (1 + 1j)).astype(np.complex64)
    push.send(b"\x01\x02\x03")                      # not whole cf32 items: dropped
    for k in range(3):
        push.send((good + k).tobytes())
    # a ZMQ source never ends by itself: the watchdog stops the graph once the data is in
    run_flowgraph(tb, timeout=20, until=lambda: len(snk.data()) >= 3000)
    push.close(0)
    data = np.asarray(snk.data())
    np.testing.assert_array_equal(data, np.concatenate([good, good + 1, good + 2]))
    assert src.bad_messages == 1


@pytest.mark.parametrize("connect_sink", [True])
def test_zmq_sink_to_source_round_trip(run_flowgraph, connect_sink):
    from semcom.zmq_sink import zmq_iq_sink
    from semcom.zmq_source import zmq_iq_source

    addr = f"tcp://127.0.0.1:{free_port()}"     # not a fixed one
    x = (np.random.default_rng(0).standard_normal(20000) * (1 + 1j)).astype(np.complex64)
    rx = gr.top_block()
    src = zmq_iq_source(addr)                  # binds, like `semcom rx --iq-in`
    snk = blocks.vector_sink_c()
    rx.connect(src, snk)
    tx = gr.top_block()
    sink = zmq_iq_sink(addr, connect=connect_sink)
    tx.connect(blocks.vector_source_c(x.tolist()), sink)
    rx.start()
    try:
        run_flowgraph(tx, timeout=20)
        deadline = time.monotonic() + 20
        while len(snk.data()) < x.size and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        rx.stop()
        rx.wait()
    np.testing.assert_array_equal(np.asarray(snk.data(), np.complex64), x)


def test_qt_gui_rx_runs_offscreen(tmp_path):
    import os

    model = tiny_checkpoint(tmp_path / "model.pt")
    images = make_images(tmp_path / "imgs", n=1, size=(64, 64))
    iq = tmp_path / "tx.cf32"
    assert _semcom("tx", "--images", str(images), "--model", str(model), "--file",
                   str(iq)).returncode == 0
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, str(REPO / "tests" / "gui_smoke.py"), str(iq),
                        str(model), str(tmp_path / "gui"), "4"], capture_output=True,
                       text=True, timeout=120, env=env, cwd=REPO)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["decoded"] >= 1 and res["shown"] >= 1
    assert "est. SNR" in res["caption"]
