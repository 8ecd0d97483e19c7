"""Hardening of the channel emulator and the RX front end against hostile or careless input:
control values checked (and a taken control port refused), fill never inside a burst in real
time, NaN/Inf IQ samples costing no frame, CIFAR batches read without running code."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from phy_helpers import burst_starts, rx_run, tiny_checkpoint, tx_samples
from phy_helpers import test_images as make_images

from apps.loopback import free_port
from channel import ChannelCore, Settings
from sdr_rx.framelog import FrameLog
from sdr_rx.stream_receiver import StreamReceiver
from semcom import numerology as nm
from semcom import validate
from semcom.ofdm import HEADER_SPAN

REPO = Path(__file__).resolve().parents[1]


def _run(tb, timeout: float = 60.0):
    """Run a TX top block to completion (module fixtures cannot use run_flowgraph)."""
    done = threading.Event()
    tb.start()
    threading.Thread(target=lambda: (tb.wait(), done.set()), daemon=True).start()
    if not done.wait(timeout):
        tb.stop()
        tb.wait()
        pytest.fail("TX flowgraph did not finish")
    return tb


@pytest.fixture(scope="module")
def tx(tmp_path_factory):
    """Real TX output: 2 images, 7 bursts each, every burst followed by its zero guard."""
    d = tmp_path_factory.mktemp("hard")
    model = tiny_checkpoint(d / "model.pt")
    images = make_images(d / "imgs", n=2, size=(64, 96))
    x = tx_samples(lambda tb, timeout=60: _run(tb, timeout), images, model, frame_symbols=480)
    return model, images, x


# -- the shared validation helper --------------------------------------------------------------
def test_validate_names_the_value_its_range_and_unit():
    assert validate.finite("snr_db", "3.5", -50, 100, "dB") == 3.5
    for bad in (float("nan"), float("inf"), 1e308, -51, "x", None, True):
        with pytest.raises(validate.OptionError, match=r"snr_db must be a finite number in "
                                                       r"\[-50, 100\] dB, got"):
            validate.finite("snr_db", bad, -50, 100, "dB")
    with pytest.raises(validate.OptionError, match="> 0 S/s"):
        validate.positive("--samp-rate", 0, unit="S/s")
    assert validate.integer("--keep", "7", 1, 32) == 7
    for bad in (3.5, 999, float("nan"), False):
        with pytest.raises(validate.OptionError, match="--keep must be an integer"):
            validate.integer("--keep", bad, 1, 32)
    with pytest.raises(validate.OptionError, match=r"\[1, 65535\]"):
        validate.port("--port", 70000)
    assert issubclass(validate.OptionError, ValueError)


# -- item 2: control values --------------------------------------------------------------------
BAD_SETS = [
    ({"snr_db": 1e308}, "snr_db must be a finite number in [-50, 100] dB"),
    ({"snr_db": float("nan")}, "snr_db must be a finite number"),
    ({"snr_db": float("-inf")}, "snr_db must be a finite number"),
    ({"sro_ppm": -1e7}, "sro_ppm must be a finite number in [-1000, 1000] ppm"),
    ({"cfo_hz": 2e6}, "cfo_hz must be a finite number in [-500000, 500000] Hz"),
    ({"timing_offset": 1e300}, "timing_offset"),
    ({"rician_k": -1}, "rician_k"),
    ({"clip": -0.5}, "clip"),
    ({"phase_noise_deg": "lots"}, "phase_noise_deg must be a finite number"),
    ({"multipath": ["incp"]}, "multipath must be a string"),
    ({"snr_db": 5, "cfo_hz": float("nan")}, "cfo_hz"),     # nothing applies, not even snr_db
]


@pytest.mark.parametrize("changes,message", BAD_SETS)
def test_core_refuses_bad_control_values(changes, message):
    core = ChannelCore(Settings(snr_db=12.0), samp_rate=1e6)
    with pytest.raises(validate.OptionError) as err:
        core.request(changes)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert core.pending == {} and core.snapshot()["snr_db"] == 12.0


def test_runtime_sample_rate_offset_loses_no_samples():
    """Switching the SRO on mid-stream (or changing it) takes over from where the stream is:
    before, output stalled until the input caught up with the absolute output index and the
    samples in between were dropped."""
    n, chunk = 300_000, 5000
    x = (0.25 * np.exp(2j * np.pi * 0.01 * np.arange(n))).astype(np.complex64)
    x[:10] = 0.25
    x = np.concatenate([np.zeros(64, np.complex64), x])   # one burst start at 64
    core = ChannelCore(Settings(), seed=0)
    out = []
    for i in range(0, len(x), chunk):
        if i == 100_000:
            core.request({"sro_ppm": 200.0})
        if i == 200_000:
            core.request({"sro_ppm": -300.0})
        out.append(core.process(x[i:i + chunk]))
    y = np.concatenate(out)
    assert abs(len(y) - len(x)) < 100
    assert np.all(np.isfinite(y))
    # no gap: the tone runs on with no sample missing (phase step per sample stays ~0.01 cycle)
    steps = np.angle(y[1001:] * np.conj(y[1000:-1])) / (2 * np.pi)
    assert np.max(np.abs(steps - 0.01)) < 0.002


def test_channel_control_socket_refuses_bad_values_and_keeps_running(tx, tmp_path):
    """A real ``semcom channel``: bad control values get ``ok: false`` with the range in the
    error; the emulator keeps running and its output stays finite."""
    _, _, x = tx
    p_in, p_out, p_ctl = free_port(), free_port(), free_port()
    ctx = zmq.Context.instance()
    pull = ctx.socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{p_out}")
    proc = subprocess.Popen([sys.executable, "-m", "semcom", "channel", "--iq-in",
                             f"tcp://127.0.0.1:{p_in}", "--iq-out", f"tcp://127.0.0.1:{p_out}",
                             "--control", f"tcp://127.0.0.1:{p_ctl}", "--snr", "12"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 20000)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(f"tcp://127.0.0.1:{p_ctl}")
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(f"tcp://127.0.0.1:{p_in}")

    def ask(raw: str) -> dict:
        req.send_string(raw)
        return json.loads(req.recv())
    try:
        for changes, message in BAD_SETS:
            reply = ask(json.dumps({"set": changes}))
            assert reply["ok"] is False and message in reply["error"], reply
        for raw in ("not json", "[1, 2]", '{"set": 5}', '{"set": {"snr_db": NaN}}'):
            reply = ask(raw)
            assert reply["ok"] is False and reply["error"], reply
        state = ask('{"get": true}')["state"]
        assert state["snr_db"] == 12.0 and state["sro_ppm"] == 0.0   # nothing applied
        assert ask(json.dumps({"set": {"snr_db": 8, "sro_ppm": 50}}))["ok"] is True
        push.send(x.tobytes())
        got, deadline = [], time.monotonic() + 30
        pull.setsockopt(zmq.RCVTIMEO, 500)
        while sum(map(len, got)) < len(x) - 100 and time.monotonic() < deadline:
            try:
                got.append(np.frombuffer(pull.recv(), np.complex64))
            except zmq.Again:
                pass
        y = np.concatenate(got)
        assert len(y) >= len(x) - 100 and np.all(np.isfinite(y))
        assert ask('{"get": true}')["state"]["snr_now_db"] == 8.0
        assert proc.poll() is None
    finally:
        for s in (req, push, pull):
            s.close(0)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out[-2000:]


def test_channel_with_its_control_port_taken_fails_at_start():
    p_ctl = free_port()
    blocker = zmq.Context.instance().socket(zmq.REP)
    blocker.bind(f"tcp://127.0.0.1:{p_ctl}")
    try:
        p = subprocess.run([sys.executable, "-m", "semcom", "channel", "--iq-in",
                            f"tcp://127.0.0.1:{free_port()}", "--iq-out",
                            f"tcp://127.0.0.1:{free_port()}", "--control",
                            f"tcp://127.0.0.1:{p_ctl}"],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        blocker.close(0)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{p_ctl}" in lines[0] and "in use" in lines[0], p.stderr


# -- item 7: real-time fill never inside a burst ----------------------------------------------
def _with_fill(x: np.ndarray, rng, n_fills: int = 40) -> np.ndarray:
    """``x`` with runs of zeros (what a real-time source emits while its input is late) at
    random places, inside bursts and between them."""
    cuts = np.sort(rng.choice(np.arange(1, len(x)), n_fills, replace=False))
    parts, prev = [], 0
    for c in cuts:
        parts += [x[prev:c], np.zeros(int(rng.integers(2, 3000)), np.complex64)]
        prev = c
    return np.concatenate(parts + [x[prev:]])


def test_fill_inside_bursts_is_removed_and_between_bursts_kept(tx):
    _, _, x = tx
    n_bursts = len(burst_starts(x))
    # the TX's only zeros are its guards: no burst sample is exactly zero (a fill next to one
    # would take it along, and the burst's header would no longer read)
    z = np.diff(np.concatenate([[0], (x == 0).view(np.int8), [0]]))
    runs = np.flatnonzero(z == -1) - np.flatnonzero(z == 1)
    assert len(runs) >= n_bursts and runs.min() >= nm.DEFAULT_GUARD
    clean = ChannelCore(Settings(), seed=0)
    y0 = np.concatenate([clean.process(x[i:i + 4096]) for i in range(0, len(x), 4096)])
    assert clean.fill_dropped == 0 and clean.burst + 1 == n_bursts
    np.testing.assert_array_equal(y0, x[:len(y0)])        # without fill: the identity
    xf = _with_fill(x, np.random.default_rng(3))
    core = ChannelCore(Settings(), seed=0)
    y = np.concatenate([core.process(xf[i:i + 1000]) for i in range(0, len(xf), 1000)])
    assert core.burst + 1 == n_bursts and core.bursts_cut == 0
    assert core.fill_dropped > 1000
    assert [(b.image_id, b.frame_idx) for b in core.bursts] == \
        [(b.image_id, b.frame_idx) for b in clean.bursts]
    # every burst comes out whole, bit for bit; fill between bursts stays (the air goes on)
    np.testing.assert_array_equal(y[y != 0], y0[y0 != 0])
    assert len(y) > len(y0)
    rx = StreamReceiver(1e6, log=FrameLog())
    frames = rx.push(y) + rx.drain()
    assert len(frames) == n_bursts


def test_a_burst_whose_rest_never_comes_is_cut_and_the_next_ones_pass(tx):
    _, _, x = tx
    st = burst_starts(x)
    gap = np.zeros(300_000, np.complex64)         # longer than 0.2 s at 1 MS/s
    # cut past the header (whatever its length): the core knows the burst's length from it
    xc = np.concatenate([x[:st[2] + HEADER_SPAN + 300], gap, x[st[3]:]])
    assert st[2] + HEADER_SPAN + 300 < st[3]
    core = ChannelCore(Settings(), seed=0)
    y = np.concatenate([core.process(xc[i:i + 8192]) for i in range(0, len(xc), 8192)])
    assert core.bursts_cut == 1
    rx = StreamReceiver(1e6, log=FrameLog())
    frames = rx.push(y) + rx.drain()
    assert len(frames) == len(st) - 1              # only the cut one is lost


def test_realtime_channel_delivers_every_frame_of_a_tx_that_stalls_mid_burst(tx,
                                                                              run_flowgraph):
    """The real-time channel flowgraph (ZMQ in, fill, throttle, emulator, ZMQ out) fed by a
    TX that stalls inside its bursts: every frame arrives. Before, the source's fill split
    the bursts and their frames were lost."""
    from flowgraphs.semcom_channel import semcom_channel

    _, _, x = tx
    st = list(burst_starts(x)) + [len(x)]
    p_in, p_out = free_port(), free_port()
    ctx = zmq.Context.instance()
    pull = ctx.socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{p_out}")
    tb = semcom_channel(iq_in=f"tcp://127.0.0.1:{p_in}", iq_out=f"tcp://127.0.0.1:{p_out}",
                        settings_json=json.dumps({"snr_db": 30.0}), samp_rate=1e6,
                        control="", realtime=1)
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(f"tcp://127.0.0.1:{p_in}")

    def sender():
        time.sleep(0.3)
        for a, b in zip(st[:-1], st[1:], strict=True):
            for lo, hi in ((a, a + 700), (a + 700, a + 1900), (a + 1900, b)):
                push.send(x[lo:hi].tobytes())
                time.sleep(0.02)          # the TX is late inside the burst: fill comes in
    rx = StreamReceiver(1e6, log=FrameLog())
    frames = []

    def received() -> bool:
        while True:
            try:
                frames.extend(rx.push(np.frombuffer(pull.recv(zmq.NOBLOCK), np.complex64)))
            except zmq.Again:
                return len(frames) >= len(st) - 1
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        run_flowgraph(tb, timeout=30, until=received)
    finally:
        t.join(5)
        push.close(0)
        pull.close(0)
    core = tb.emulator.core
    assert len(frames) == len(st) - 1
    assert core.burst + 1 == len(st) - 1 and core.fill_dropped > 0 and core.bursts_cut == 0


# -- item 6: NaN / Inf samples cost no frame ---------------------------------------------------
def test_nonfinite_samples_are_zeroed_counted_and_cost_no_frame(tx, run_flowgraph):
    model, images, x = tx
    rng = np.random.default_rng(4)
    lead = np.zeros(20_000, np.complex64)
    y = ChannelCore(Settings(snr_db=25.0), seed=1).process(np.concatenate([lead, x, lead]))
    y = y.copy()
    st = burst_starts(x) + len(lead)
    y[st[0] - 6000] = np.nan                                # one NaN 6000 samples before
    y[st[2] - 3000:st[2] - 2900] = np.inf                   # an Inf burst
    y[st[4] - 300:st[4] - 200] = complex(np.nan, np.inf)       # inside the guard before it
    y[st[6] - 2000] = 3e38                                  # finite but overflows products
    y[rng.integers(0, len(y), 5)] = complex(-np.inf, 0)
    n_bad = int(np.count_nonzero(~np.isfinite(y) | (np.abs(y) > 1e15)))
    # one block (the detector's running sums see all of it at once), then through the real
    # GNU Radio receive path
    log = FrameLog()
    rx = StreamReceiver(1e6, log=log)
    frames = rx.push(y) + rx.drain()
    assert len(frames) == len(st)
    assert log.summary()["nonfinite_samples"] == n_bad
    rcv, dec = rx_run(run_flowgraph, y, model)
    c = rcv.log.summary()
    assert c["frames_decoded"] == len(st) and c["nonfinite_samples"] == n_bad
    assert c["crc_fail"] == 0 and c["truncated"] == 0


# -- item 5: CIFAR batches never run code ------------------------------------------------------
class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_crafted_cifar_batch_is_refused_and_runs_nothing(tmp_path, payload):
    from models.data import CifarBatchError, load_split

    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar"
    folder.mkdir()
    evil = _Evil(marker) if payload == "system" else _EvalEvil()
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": evil, b"labels": [0]}, f, protocol=2)
    with pytest.raises(CifarBatchError, match="data_batch_1.*only numpy arrays"):
        load_split("train", folder)
    assert not marker.exists()
    (folder / "data_batch_1").write_bytes(b"\x80\x04garbage")   # not a pickle at all
    with pytest.raises(CifarBatchError, match="not a CIFAR-10 batch"):
        load_split("train", folder)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_genuine_cifar_batch_still_loads(tmp_path, protocol):
    from models.data import load_split

    folder = tmp_path / "cifar"
    folder.mkdir()
    data = np.random.default_rng(protocol).integers(0, 256, (6, 3072), dtype=np.uint8)
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"batch_label": b"training batch 1 of 1", b"labels": [1, 2, 3, 4, 5, 6],
                     b"data": data, b"filenames": [b"%d.png" % i for i in range(6)]}, f,
                    protocol=protocol)
    images = load_split("train", folder)
    assert len(images) == 6
    by_name = {im.name: im.array for im in images}
    np.testing.assert_array_equal(by_name["cifar:data_batch_1:3"],
                                  data[3].reshape(3, 32, 32).transpose(1, 2, 0))
