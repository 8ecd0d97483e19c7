"""Channel emulator: SNR convention, CFO, determinism, schedules, control; loopback runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from apps.loopback import free_port
from channel import ChannelCore, Settings, Trace, make_schedule
from semcom import numerology as nm


def _ports(n: int) -> list[int]:
    # free ports, not fixed ones: a fixed port in the ephemeral range (32768-60999) can be the
    # local end of any connection on the machine when a test binds it
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p not in ports:
            ports.append(p)
    return ports

REPO = Path(__file__).resolve().parents[1]


def bursts(n: int = 6, length: int = 3000, guard: int = 400, seed: int = 0) -> np.ndarray:
    """Noise-like bursts at RMS 0.25 separated by zero guards (what the TX emits)."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(guard, np.complex64)]
    for _ in range(n):
        b = (rng.standard_normal(length) + 1j * rng.standard_normal(length)) * 0.25 / np.sqrt(2)
        parts += [b.astype(np.complex64), np.zeros(guard, np.complex64)]
    return np.concatenate(parts)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 15.0, 30.0])
def test_noise_follows_the_product_snr_convention(snr):
    x = np.zeros(400_000, np.complex64)
    x[:10] = 0.25          # one tiny burst so the SNR applies from the start
    core = ChannelCore(Settings(snr_db=snr), seed=1)
    y = core.process(x)
    noise = y[2000:]
    sigma2 = float(np.mean(np.abs(noise) ** 2))
    expected = nm.noise_voltage_for_snr(snr) ** 2
    assert 10 * np.log10(sigma2 / expected) == pytest.approx(0.0, abs=0.05)
    # in the product convention: 0.25^2 * 64/52 / sigma^2
    measured_snr = 10 * np.log10(0.25 ** 2 * nm.FFT_LEN / nm.N_USED / sigma2)
    assert measured_snr == pytest.approx(snr, abs=0.05)


def test_cfo_is_as_set():
    x = np.full(50_000, 0.25, np.complex64)
    y = ChannelCore(Settings(cfo_hz=12_345.0), samp_rate=1e6).process(x)
    f = np.angle(np.sum(y[1:] * np.conj(y[:-1]))) / (2 * np.pi) * 1e6
    assert f == pytest.approx(12_345.0, abs=1.0)


def test_sample_rate_offset_is_as_set():
    n = 200_000
    x = (0.25 * np.exp(2j * np.pi * 0.01 * np.arange(n))).astype(np.complex64)
    core = ChannelCore(Settings(sro_ppm=100.0))
    y = np.concatenate([core.process(x[i:i + 7000]) for i in range(0, n, 7000)])
    f = np.angle(np.sum(y[1001:-1000] * np.conj(y[1000:-1001]))) / (2 * np.pi)
    assert f == pytest.approx(0.01 * (1 + 100e-6), rel=2e-6)


@pytest.mark.parametrize("offset", [0.5, 0.25])
def test_timing_offset_keeps_the_outer_carriers(offset):
    # a fractional timing offset delays the signal and nothing else: a tone on the outermost
    # used carrier (26 of 64: 0.41 of the sample rate) keeps its level (8 Lanczos taps lost
    # 2.4 dB there, the SNR of the outer carriers with it)
    n, f = 20_000, 26 / nm.FFT_LEN
    x = (0.25 * np.exp(2j * np.pi * f * np.arange(n))).astype(np.complex64)
    core = ChannelCore(Settings(timing_offset=offset))
    y = np.concatenate([core.process(x[i:i + 3000]) for i in range(0, n, 3000)])
    seg = y[2000:-2000]
    assert 20 * np.log10(np.abs(seg).mean() / 0.25) == pytest.approx(0.0, abs=0.1)
    # and it is the delay asked for: y[k] = x(k - offset), measured on a slow tone against
    # no offset at all
    def delay(off):
        t = (0.25 * np.exp(2j * np.pi * 0.01 * np.arange(n))).astype(np.complex64)
        c = ChannelCore(Settings(timing_offset=off))
        out = np.concatenate([c.process(t[i:i + 3000]) for i in range(0, n, 3000)])
        m = np.arange(2000, len(out) - 2000)
        return -np.angle(np.vdot(np.exp(2j * np.pi * 0.01 * m), out[m])) / (2 * np.pi * 0.01)
    assert delay(offset) - delay(1e-9) == pytest.approx(offset, abs=0.01)


def test_same_seed_same_output_whatever_the_chunking():
    x = bursts()
    s = dict(snr_db=12.0, cfo_hz=3000.0, multipath="incp", phase_noise_deg=0.05,
             iq_gain_db=0.2, dc_offset=0.02)

    def run(seed, chunk):
        core = ChannelCore(Settings(**s), seed=seed)
        return np.concatenate([core.process(x[i:i + chunk]) for i in range(0, len(x), chunk)]
                              + [core.process(np.zeros(0, np.complex64))])
    a, b, c = run(7, 1000), run(7, 4567), run(8, 1000)
    n = min(len(a), len(b))
    assert n > 0.95 * len(x)
    np.testing.assert_array_equal(a[:n], b[:n])
    assert not np.allclose(a[:n], c[:n])


def test_unknown_impairment_is_refused():
    core = ChannelCore()
    with pytest.raises(KeyError, match="unknown impairment"):
        core.request({"snr": 3})
    with pytest.raises(KeyError, match="multipath profile"):
        core.request({"multipath": "moon"})


def test_changes_apply_at_the_next_burst_start():
    x = bursts(n=4)
    core = ChannelCore(Settings(snr_db=20.0), seed=0)
    half = len(x) // 3
    core.process(x[:half])
    n_before = len(core.bursts)
    assert core.request({"snr_db": 3.0}) == n_before
    core.process(x[half:])
    assert [b.snr_db for b in core.bursts][:n_before] == [20.0] * n_before
    assert all(b.snr_db == 3.0 for b in core.bursts[n_before:])


def test_trace_by_frame_and_time_wraps(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("frame,snr_db\n0,1\n1,2\n2,3\n")
    core = ChannelCore(Settings(snr_db=10.0), schedule=Trace(f))
    core.process(bursts(n=7))
    assert [b.snr_db for b in core.bursts] == [1, 2, 3, 1, 2, 3, 1]
    g = tmp_path / "bad.csv"
    g.write_text("snr_db\n1\n")
    with pytest.raises(ValueError, match="one of the columns"):
        Trace(g)
    steps = make_schedule("steps", "0:5,0.002:9", 0)
    assert steps.at(0, None, None, 0.001) == 5 and steps.at(0, None, None, 0.01) == 9


def _semcom(*args, timeout=240, **kw):
    return subprocess.run([sys.executable, "-m", "semcom", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, **kw)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from phy_helpers import test_images as make_images
    from phy_helpers import tiny_checkpoint

    d = tmp_path_factory.mktemp("loop")
    return d, tiny_checkpoint(d / "model.pt"), make_images(d / "imgs", n=2, size=(64, 96))


def _sim_psnr(model, images, snr, keep=None, seeds=4):
    import torch

    from models.channels import AWGN
    from models.codec import JSCCCodec
    from models.metrics import psnr
    from semcom.images import list_images, load_rgb

    codec = JSCCCodec.load(str(model))
    vals = []
    for p in list_images(images):
        img = load_rgb(p)
        z = codec.encode(img, snr, keep)
        for s in range(seeds):
            y, _ = AWGN(torch.Generator().manual_seed(s))(torch.from_numpy(z)[None],
                                                         torch.tensor([snr]))
            vals.append(psnr(img, codec.decode(y[0].numpy(), img.shape[:2], snr, keep)))
    return float(np.mean(vals))


@pytest.mark.parametrize("snr", [5.0, 15.0])
def test_loopback_matches_simulation(small_run, tmp_path, snr):
    d, model, images = small_run
    out = tmp_path / "lb"
    p = _semcom("loopback", "--images", str(images), "--model", str(model), "--snr", str(snr),
                "--tx-snr", str(snr), "--seed", "3", "--out", str(out), "--cfo-hz", "15000",
                "--frame-symbols", "480")
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["frames_received"] == s["frames_sent"] > 0
    assert len(s["images"]) == 2 and all(not im["partial"] for im in s["images"])
    for im in s["images"]:
        assert im["true_snr_db"] == pytest.approx(snr)
        assert abs(im["est_snr_db"] - snr) < 1.0
        assert im["snr_est_db"] == im["est_snr_db"]         # one spelling, the old one kept
        assert im["latency_ms"] > 0
    assert s["mean_psnr_db"] == pytest.approx(_sim_psnr(model, images, snr), abs=0.5)
    assert s["manifest"]["model_hash"] and s["manifest"]["seed"] == 3
    assert (out / "report.png").stat().st_size > 10_000
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == s["frames_sent"] and all(x["true_snr_db"] == snr for x in lines)


def test_control_socket_reads_and_changes_impairments(tmp_path):
    from conftest import FlowgraphError  # noqa: F401  (the fixture module)

    ports = _ports(3)
    ctl = f"tcp://127.0.0.1:{ports[2]}"
    proc = subprocess.Popen([sys.executable, "-m", "semcom", "channel", "--iq-in",
                             f"tcp://127.0.0.1:{ports[0]}", "--iq-out",
                             f"tcp://127.0.0.1:{ports[1]}", "--control", ctl, "--snr", "12"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.RCVTIMEO, 15000)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(ctl)
    try:
        sock.send_string(json.dumps({"get": True}))
        state = json.loads(sock.recv())["state"]
        assert state["snr_db"] == 12.0
        assert state["time_domain_snr_db"] == pytest.approx(12 + 10 * np.log10(52 / 64))
        sock.send_string(json.dumps({"set": {"snr_db": 4, "cfo_hz": 1000}}))
        assert json.loads(sock.recv())["applies_at_burst"] == 0
        sock.send_string(json.dumps({"set": {"bogus": 1}}))
        reply = json.loads(sock.recv())
        assert not reply["ok"] and "unknown impairment" in reply["error"]
    finally:
        sock.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0


@pytest.mark.slow
def test_channel_killed_and_restarted_mid_run(small_run, tmp_path):
    """SIGKILL the emulator mid-run and start it again: TX and RX go on, nothing duplicated
    or corrupted; garbage on the RX's port is counted."""
    d, model, images = small_run
    ports = _ports(3)
    rx_in, ch_in = f"tcp://127.0.0.1:{ports[0]}", f"tcp://127.0.0.1:{ports[1]}"
    base = [sys.executable, "-m", "semcom"]
    rx = subprocess.Popen(base + ["rx", "--iq-in", rx_in, "--model", str(model), "--out",
                                  str(tmp_path / "rx"), "--reference", str(images),
                                  "--max-side", "0", "--idle-timeout", "6"],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def channel():
        return subprocess.Popen(base + ["channel", "--iq-in", ch_in, "--iq-out", rx_in,
                                        "--control", f"tcp://127.0.0.1:{ports[2]}", "--snr",
                                        "20", "--realtime"],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ch = channel()
    time.sleep(2)
    tx = subprocess.Popen(base + ["tx", "--images", str(images), "--model", str(model),
                                  "--iq-out", ch_in, "--repeat", "40", "--max-side", "0",
                                  "--frame-symbols", "480"],
                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    try:
        for line in rx.stdout:
            if line.startswith("rx: image"):
                seen.append(line)
                if len(seen) == 5:
                    os.kill(ch.pid, signal.SIGKILL)
                    ch.wait()
                    junk = zmq.Context.instance().socket(zmq.PUSH)
                    junk.connect(rx_in)
                    junk.send(os.urandom(1001))
                    junk.send(np.random.default_rng(0).standard_normal(20000)
                              .astype(np.complex64).tobytes())
                    time.sleep(0.5)
                    junk.close(1000)
                    ch = channel()
        rx.wait(timeout=120)
        tx.wait(timeout=60)
    finally:
        for p in (ch, tx, rx):
            if p.poll() is None:
                p.kill()
                p.wait()
    s = json.loads((tmp_path / "rx" / "summary.json").read_text())
    ids = [im["image_id"] for im in s["images"]]
    assert len(ids) == len(set(ids))                     # nothing duplicated
    assert len(ids) > 10                                 # the run went on after the restart
    complete = [im for im in s["images"] if not im["partial"]]
    # images sent while the emulator was down are lost (how many depends on how long its
    # restart takes on a loaded machine) but counted, and the run went on after it
    assert len(complete) >= len(ids) // 2
    assert all(not im["partial"] for im in s["images"] if im["image_id"] >= max(ids) - 4)
    c = s["counters"]
    # images in flight when the emulator died are either decoded partially or, when none of
    # their frames arrived, reported lost ("not_received"): every image id is accounted for
    lost = [im for im in s["images"] if im.get("lost")]
    assert c["images_partial"] + c.get("images_lost", 0) == len(ids) - len(complete)
    assert all(im["cause"] == "not_received" for im in lost)
    assert sorted(ids) == list(range(min(ids), max(ids) + 1))
    for parity in (0, 1):                                # the 2 images alternate
        ps = [im["psnr_db"] for im in complete if im["image_id"] % 2 == parity]
        assert max(ps) - min(ps) < 0.5                   # no corrupted frame got in


@pytest.mark.slow
def test_rx_killed_and_restarted_mid_run(small_run, tmp_path):
    d, model, images = small_run
    ports = _ports(3)
    rx_in, ch_in = f"tcp://127.0.0.1:{ports[0]}", f"tcp://127.0.0.1:{ports[1]}"
    base = [sys.executable, "-m", "semcom"]

    def rx(out):
        out.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(base + ["rx", "--iq-in", rx_in, "--model", str(model), "--out",
                                        str(out), "--reference", str(images), "--max-side", "0",
                                        "--idle-timeout", "6"],
                                cwd=REPO, stdout=subprocess.PIPE,
                                stderr=open(out.parent / f"{out.name}.err", "w"), text=True)
    rx1 = rx(tmp_path / "rx1")
    ch = subprocess.Popen(base + ["channel", "--iq-in", ch_in, "--iq-out", rx_in, "--control",
                                  f"tcp://127.0.0.1:{ports[2]}", "--snr", "20", "--realtime"],
                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    tx = subprocess.Popen(base + ["tx", "--images", str(images), "--model", str(model),
                                  "--iq-out", ch_in, "--repeat", "30", "--max-side", "0",
                                  "--frame-symbols", "480"],
                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rx2 = None
    try:
        n = 0
        for line in rx1.stdout:
            n += line.startswith("rx: image")
            if n == 4:
                os.kill(rx1.pid, signal.SIGKILL)
                break
        rx1.wait()
        rx2 = rx(tmp_path / "rx2")
        rx2.wait(timeout=120)
        tx.wait(timeout=60)
    finally:
        for p in (ch, tx, rx1, rx2):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    assert (tmp_path / "rx2" / "summary.json").exists(), \
        f"rx2 exit {rx2.returncode}: {(tmp_path / 'rx2.err').read_text()[-2000:]}"
    s = json.loads((tmp_path / "rx2" / "summary.json").read_text())
    ids = [im["image_id"] for im in s["images"]]
    assert len(ids) > 10 and len(ids) == len(set(ids)) and min(ids) >= 4
    complete = [im for im in s["images"] if not im["partial"]]
    assert len(complete) >= len(ids) - 3
    for parity in (0, 1):
        ps = [im["psnr_db"] for im in complete if im["image_id"] % 2 == parity]
        assert max(ps) - min(ps) < 0.5


def test_adaptive_loopback_follows_the_snr(small_run, tmp_path):
    d, model, images = small_run
    table = tmp_path / "table.json"
    p = _semcom("calibrate", "policy", "--model", str(model), "--images", "1", "--out",
                str(table))
    assert p.returncode == 0, p.stderr[-2000:]
    trace = tmp_path / "trace.csv"
    trace.write_text("image,snr_db\n0,20\n1,20\n2,20\n3,3\n4,3\n5,3\n")
    imgs = tmp_path / "six"
    imgs.mkdir()
    for i in range(6):
        (imgs / f"{i}.png").write_bytes(sorted(images.glob("*.png"))[i % 2].read_bytes())
    out = tmp_path / "ad"
    p = _semcom("loopback", "--images", str(imgs), "--model", str(model), "--adaptive",
                "--policy", "target", "--target-psnr", "60", "--rate-table", str(table),
                "--snr-trace", str(trace), "--seed", "1", "--out", str(out),
                "--frame-symbols", "480")
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    ims = s["images"]
    assert [round(im["true_snr_db"]) for im in ims] == [20, 20, 20, 3, 3, 3]
    # lock-step: image i's decision acts on the reports of image i-1
    assert ims[0]["policy_snr_db"] is None and "safe keep" in ims[0]["policy_reason"]
    assert abs(ims[2]["policy_snr_db"] - 20) < 1.5 and abs(ims[5]["policy_snr_db"] - 3) < 1.5
    assert s["manifest"]["adaptive"]["policy"] == "target"
    tx_lines = (out / "tx.out").read_text()
    assert "policy target" in tx_lines
