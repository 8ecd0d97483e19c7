"""The closed loop lives in the flowgraphs: the grcc-generated TX top block (its rate-control
block binds the feedback port) against ``semcom channel`` and ``semcom rx --feedback`` (its
feedback sink block reports); after an SNR step on the channel's control socket the TX's
``keep`` changes. Real processes, real ZMQ sockets, the committed top block."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import zmq
from phy_helpers import test_images as make_images

from apps.loopback import free_port

REPO = Path(__file__).resolve().parents[1]


def test_generated_tx_top_block_follows_an_snr_step_through_rx_feedback(tmp_path):
    from flowgraphs.semcom_tx import semcom_tx

    imgs = make_images(tmp_path / "imgs", 2)
    chan_in, rx_in, ctl, fb = (f"tcp://127.0.0.1:{free_port()}" for _ in range(4))
    n_images = 10
    py = [sys.executable, "-m", "semcom"]
    ch = subprocess.Popen(py + ["channel", "--iq-in", chan_in, "--iq-out", rx_in,
                                "--control", ctl, "--snr", "20", "--seed", "1"],
                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rx = subprocess.Popen(py + ["rx", "--iq-in", rx_in, "--feedback", fb, "--out",
                                str(tmp_path / "rx"), "--num-images", str(n_images),
                                "--idle-timeout", "60"],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.RCVTIMEO, 15000)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(ctl)
    tb = None
    try:
        # target 30 dB: a few channels at 20 dB, many or all at 0 dB
        tb = semcom_tx(images=str(imgs), model="default", sink_kind="zmq",
                       sink_address=chan_in, repeat=n_images // 2, images_in_flight=1,
                       feedback=fb, policy="target", target_psnr=30.0,
                       feedback_timeout=20.0)
        stepped = []

        def step_when_settled():
            deadline = time.monotonic() + 240
            while len(tb.rate.decisions) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            sock.send_string(json.dumps({"set": {"snr_db": 0}}))
            stepped.append((len(tb.rate.decisions), json.loads(sock.recv())))
        stepper = threading.Thread(target=step_when_settled, daemon=True)
        stepper.start()
        tb.start()
        stepper.join(timeout=300)
        rx.wait(timeout=300)
        tb.stop()
        tb.wait()
    finally:
        for p in (rx, ch):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
        sock.close()
    out = rx.stdout.read()
    assert rx.returncode == 0, out[-3000:]
    assert stepped and stepped[0][1]["ok"], stepped
    at_step = stepped[0][0]
    d = tb.rate.decisions
    keeps = [x["keep"] for x in d]
    C = tb.encoder.codec.C
    assert len(d) == n_images, keeps
    # image 0: no report yet; then the reports of ~20 dB: few channels
    assert "safe keep" in d[0]["reason"] and keeps[0] == C
    before = d[1:at_step]
    assert before and all(x["snr_used_db"] is not None and x["snr_used_db"] > 15
                          for x in before), before
    assert all(k < C for k in keeps[1:at_step]), keeps
    # after the step: the reports say ~0 dB and the target needs every channel
    after = d[at_step + 2:]
    assert after and all(x["snr_used_db"] < 5 for x in after), after
    # the same image (the two alternate) needs more channels for the target at 0 dB than at
    # 20 dB: every keep after the step is above every keep of that image before it
    for parity in (0, 1):
        pre = [k for i, k in enumerate(keeps[1:at_step], 1) if i % 2 == parity]
        post = [k for i, k in enumerate(keeps) if i >= at_step + 2 and i % 2 == parity]
        assert pre and post and min(post) > max(pre), (parity, keeps, at_step)
    # what the encoder sent is what the rate control decided, image by image
    assert [r["keep"] for r in tb.encoder.sent] == keeps
    assert [r["decision"]["keep"] for r in tb.encoder.sent] == keeps
    summary = json.loads((tmp_path / "rx" / "summary.json").read_text())
    assert len(summary["images"]) == n_images
