"""Hardening of the command lines (issue 11): bad option values and files are one line and exit 2
before any work; the TX never reports success for data nobody took, never hangs on a bad image
and stops within 2 s on Ctrl-C/SIGTERM even when blocked on its peer; the loopback names a
child that failed and exits non-zero. Real processes, real ZMQ sockets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import zmq
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

from apps.loopback import free_port
from semcom import validate
from semcom.cli import main as semcom_main

REPO = Path(__file__).resolve().parents[1]


def _semcom(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "semcom", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def _popen(*args, **kw):
    # SIGINT at its default in the child whatever the test runner inherited (a background
    # shell ignores it), so Python installs its Ctrl-C handler as in a terminal
    return subprocess.Popen([sys.executable, "-m", "semcom", *map(str, args)], cwd=REPO,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                        signal.SIG_DFL), **kw)


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A tiny checkpoint, two small images, an empty folder, one with a corrupt PNG."""
    d = tmp_path_factory.mktemp("cli")
    model = tiny_checkpoint(d / "model.pt")
    images = make_images(d / "imgs", n=2, size=(32, 48))
    (d / "empty").mkdir()
    bad = make_images(d / "bad", n=2, size=(32, 48))
    data = (bad / "img1.png").read_bytes()
    (bad / "img1.png").write_bytes(data[:len(data) // 2])          # truncated: corrupt
    (d / "empty.cf32").write_bytes(b"")
    (d / "trace.csv").write_text("snr_db,image\n12,0\nnot-a-number,1\n")
    return d, model, images


# -- option values and files: one line, exit 2, before any work --------------------------------
def test_bad_option_values_and_files_are_one_line_and_exit_2(kit, capsys):
    d, model, images = kit
    blocked = d / "a-file"
    blocked.write_text("x")
    m = ["--model", model]
    cases = [
        (["eval", "--snr", "nan", "--images", images, "--no-baselines", "--out",
          d / "e.json", *m], "--snr must be a finite number in [-50, 100] dB, got nan"),
        (["eval", "--snr", "10", "--keep", "999", "--images", images, "--out", d / "e.json",
          *m], "--keep must be an integer in [1, 32]"),
        (["tx", "--tx-snr", "inf", "--images", images, "--file", d / "t.cf32", *m],
         "--tx-snr must be a finite number"),
        (["tx", "--samp-rate", "0", "--images", images, "--file", d / "t.cf32", *m],
         "--samp-rate must be a finite number > 0 S/s"),
        (["tx", "--images", d / "empty", "--file", d / "t.cf32", *m], "no image files"),
        (["tx", "--images", images, "--file", blocked / "t.cf32", *m], "is not a folder"),
        (["rx", "--file", d / "empty.cf32", "--out", d / "rx", *m], "file is empty"),
        (["rx", "--file", d / "missing.cf32", "--out", d / "rx", *m], "no such file"),
        (["rx", "--file", d, "--out", d / "rx", *m], "is a folder, not a file"),
        (["rx", "--file", d / "a-file", "--out", blocked / "rx", *m], "cannot make the folder"),
        (["eval", "--snr", "5", "--images", images, "--out", "/proc/no/e.json", *m],
         "cannot make the folder"),
        (["rx", "--file", d / "a-file", "--idle-timeout", "-1", "--out", d / "rx", *m],
         "--idle-timeout must be a finite number in [0,"),
        (["loopback", "--snr-trace", d / "trace.csv", "--images", images, "--out", d / "lb",
          *m], "trace.csv"),
        (["loopback", "--multipath", "bogus", "--images", images, "--out", d / "lb", *m],
         "--multipath"),
        (["loopback", "--keep", "999", "--images", images, "--out", d / "lb", *m],
         "--keep must be an integer in [0, 32]"),
    ]
    for argv, expect in cases:
        rc = semcom_main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert rc == 2, (argv, err)
        line = _one_line_error(err)
        assert line.startswith(f"semcom {argv[0]}: ") and expect in line, (argv, line)
    assert not (d / "e.json").exists() and not (d / "t.cf32").exists()
    assert not (d / "lb" / "rx.err").exists()          # the loopback started no process
    with pytest.raises(validate.OptionError, match="--keep must be an integer"):
        validate.integers("--keep", "4,x", 1, 32)


def test_a_user_error_is_exit_2_and_one_line_from_a_real_process(kit):
    d, model, images = kit
    p = _semcom("tx", "--keep", "999", "--images", images, "--model", model, "--file",
                d / "k.cf32")
    assert p.returncode == 2
    assert "--keep must be an integer in [0, 32]" in _one_line_error(p.stderr)
    p = _semcom("tx", "--keep", "x", "--images", images, "--model", model)       # argparse's own
    assert p.returncode == 2 and "invalid int value" in _one_line_error(p.stderr)


def test_a_port_in_use_is_one_line_naming_it(kit):
    d, model, _ = kit
    port = free_port()
    taken = zmq.Context.instance().socket(zmq.PULL)
    taken.bind(f"tcp://127.0.0.1:{port}")
    try:
        p = _semcom("rx", "--iq-in", f"tcp://127.0.0.1:{port}", "--model", model, "--out",
                    d / "rx-port")
    finally:
        taken.close(0)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert f"tcp://127.0.0.1:{port}: cannot bind: address already in use" in last


# -- the TX: no silent loss, no hang --------------------------------------------------------
def test_tx_to_a_port_nobody_listens_on_fails(kit):
    d, model, images = kit
    port = free_port()
    t0 = time.monotonic()
    p = _semcom("tx", "--images", images, "--model", model, "--iq-out",
                f"tcp://127.0.0.1:{port}", "--peer-timeout", "1")
    assert p.returncode == 1, p.stdout + p.stderr[-2000:]
    assert f"no receiver connected to tcp://127.0.0.1:{port} for 1 s" in p.stderr
    assert time.monotonic() - t0 < 60


def test_tx_reports_success_only_for_data_a_receiver_took(kit):
    d, model, images = kit
    port = free_port()
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    got = [0]
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            if pull.poll(50):
                got[0] += len(pull.recv()) // 8
    th = threading.Thread(target=drain, daemon=True)
    th.start()
    try:
        p = _semcom("tx", "--images", images, "--model", model, "--iq-out",
                    f"tcp://127.0.0.1:{port}", "--peer-timeout", "20")
        time.sleep(0.3)
    finally:
        stop.set()
        th.join()
        pull.close(0)
    assert p.returncode == 0, p.stderr[-2000:]
    samples = int(p.stdout.split(" samples")[0].split()[-1])
    assert samples > 0 and got[0] == samples            # every sample it counted arrived


def test_tx_refuses_a_corrupt_png_before_any_output(kit):
    d, model, _ = kit
    out = d / "corrupt.cf32"
    p = _semcom("tx", "--images", d / "bad", "--model", model, "--file", out, timeout=60)
    assert p.returncode == 2
    line = _one_line_error(p.stderr)
    assert "img1.png" in line and "not a readable image" in line
    assert not out.exists() and not Path(str(out) + ".part").exists()


def test_image_source_skips_and_counts_a_file_that_breaks_during_the_run(kit, run_flowgraph):
    """The TX checks every image before starting; a file that breaks after that check is
    skipped and counted, and the flowgraph still ends (end-of-stream always sent)."""
    import pmt
    from gnuradio import blocks, gr

    from sdr_tx.image_source import image_source

    d, _, _ = kit
    src = image_source(str(d / "bad"))
    dbg = blocks.message_debug()
    tb = gr.top_block()
    tb.msg_connect(src, "images", dbg, "store")
    run_flowgraph(tb, timeout=20)
    assert (src.sent, src.skipped) == (1, 1) and "img1.png" in src.errors[0]
    metas = [pmt.to_python(pmt.car(dbg.get_message(i))) for i in range(dbg.num_messages())]
    assert metas[0]["name"] == "img0" and metas[-1] == {"eos": True}


@pytest.mark.parametrize("sig,rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_tx_stops_within_2_s_while_blocked_on_its_peer(kit, sig, rc):
    d, model, images = kit
    port = free_port()
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.setsockopt(zmq.RCVHWM, 1)
    pull.setsockopt(zmq.RCVBUF, 4096)
    pull.bind(f"tcp://127.0.0.1:{port}")
    proc = _popen("tx", "--images", images, "--model", model, "--iq-out",
                  f"tcp://127.0.0.1:{port}", "--repeat", "2000", "--peer-timeout", "0",
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert pull.poll(60_000), "the TX never sent"
        pull.recv()                       # it runs; now nobody reads: it blocks on the peer
        time.sleep(1.0)
        assert proc.poll() is None
        t0 = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        pull.close(0)
    assert proc.returncode == rc, err[-2000:]
    assert took < 2.0, took
    assert "tx: interrupted" in err and "images" in out


# -- the loopback: a failed child is named, and the exit status says so -----------------------
def test_loopback_names_a_killed_child_and_exits_nonzero(kit, tmp_path):
    d, model, _ = kit
    many = make_images(tmp_path / "many", n=6, size=(32, 48))
    out = tmp_path / "lb"
    proc = _popen("loopback", "--images", many, "--model", model, "--out", out,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "channel.out").exists() or "channel:" not in (
                out / "channel.out").read_text():
            assert time.monotonic() < deadline and proc.poll() is None, "no channel"
            time.sleep(0.1)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        channel = [int(c) for c in children
                   if b" channel " in Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0",
                                                                                      b" ")]
        assert len(channel) == 1
        t0 = time.monotonic()
        os.kill(channel[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err[-2000:]
    assert "loopback: channel was killed by SIGKILL" in err
    assert took < 10, took                 # noticed at once, not after the RX's idle time-out
    assert json.loads((out / "summary.json").read_text())["images"] is not None


def test_rx_stops_on_sigterm_within_2_s_with_a_valid_summary(kit, tmp_path):
    d, model, _ = kit
    out = tmp_path / "rx"
    proc = _popen("rx", "--iq-in", f"tcp://127.0.0.1:{free_port()}", "--model", model,
                  "--out", out, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "frames.jsonl").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the RX never started"
            time.sleep(0.1)
        time.sleep(1.0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err[-2000:]
    assert took < 2.0, took
    assert json.loads((out / "summary.json").read_text())["counters"]["frames_decoded"] == 0


@pytest.mark.parametrize("when", ["rx.out", "tx.out"])   # while the children start; running
def test_loopback_stops_everything_within_2_s_on_ctrl_c(kit, tmp_path, when):
    d, model, images = kit
    out = tmp_path / "lb"
    proc = _popen("loopback", "--images", images, "--model", model, "--out", out,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / when).exists():
            assert time.monotonic() < deadline and proc.poll() is None, "no " + when
            time.sleep(0.01)
        children = [int(c) for c in
                    Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(children) == 3 if when == "tx.out" else 1 <= len(children) <= 3
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err[-2000:]
    assert took < 2.0, took
    assert "interrupted" in err
    assert json.loads((out / "summary.json").read_text())["manifest"]["model_hash"]
    for pid in children:                      # no child left running
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@pytest.mark.parametrize("argv, says", [
    (["train", "--steps", "-5"], "--steps"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--snr-min", "10", "--snr-max", "5"], "--snr-max"),
    (["train", "--arch", "nope"], "--arch"),
    (["train", "--config", "{bad"], "--config"),
    (["train", "--full-keep-prob", "1.5"], "--full-keep-prob"),
    (["calibrate", "policy", "--images", "0"], "--images"),
    (["calibrate", "snr", "--threads", "0"], "--threads"),
])
def test_train_and_calibrate_options_are_checked_before_work(argv, says, tmp_path, capsys):
    assert semcom_main(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def _catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_sigterm_while_the_cli_is_still_starting_ends_with_143():
    # the handler is installed first thing: a SIGTERM sent the moment it is there lands while
    # the command line is built or while `models` imports torch (about a second), and the
    # command still ends as a SIGTERM does everywhere else, exit 143 and one line
    p = _popen("models", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not _catches_sigterm(p.pid):
        assert p.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 143, err
    assert err.count("\n") == 1 and ": terminated" in err and "Traceback" not in err, err
    assert out == ""


def test_the_command_line_is_built_without_importing_torch():
    # torch takes about 1.5 s to import: --help, doctor, channel, flowgraphs... do not wait for
    # it; train, eval and models import it when they run
    code = ("import sys; from semcom.cli import build_parser; p = build_parser(); "
            "names = p._subparsers._group_actions[0].choices; "
            "assert {'train', 'eval', 'models'} <= set(names); "
            "assert 'unavailable' not in p.format_help(); "
            "print('torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"


def test_a_reader_that_went_away_is_exit_141_without_a_traceback():
    # `semcom models | head -0`: the pipe's reader is gone before anything is written
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([sys.executable, "-m", "semcom", "models"], stdout=w,
                           stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=120)
    finally:
        os.close(w)
    assert p.returncode == 141, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
