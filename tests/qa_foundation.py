"""The foundation: CLI wiring, `semcom doctor`, and the flowgraph watchdog used by every test."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from gnuradio import blocks, gr

from apps import doctor
from semcom.cli import build_parser, main


def test_cli_lists_only_built_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "doctor" in out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["no-such-command"])


def test_doctor_reports_ready_here():
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "semcom", "doctor"], capture_output=True,
                          text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    import torch
    from gnuradio import gr as _gr
    assert f"GNU Radio     {_gr.version()}" in out
    assert torch.__version__ in out
    assert f"numpy         {np.__version__}" in out
    for name in ("UHD", "USRPs", "libiio", "PlutoSDRs", "grcc"):
        assert any(line.split()[1:2] == [name] for line in out.splitlines()), name
    assert "doctor: ready" in out
    assert elapsed < 30


def test_doctor_fails_clearly_without_torch(tmp_path):
    # A package named torch that fails to import stands in for a venv that lacks torch.
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.run([sys.executable, "-m", "semcom", "doctor"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert "FAIL  torch" in proc.stdout
    assert "make setup" in proc.stdout
    assert "missing required: torch" in proc.stderr
    # the other subcommands stay listed and say what is wrong instead of a traceback
    proc = subprocess.run([sys.executable, "-m", "semcom", "train", "--steps", "1"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert "semcom train: cannot run: No module named torch" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doctor_numpy2_is_refused(monkeypatch):
    monkeypatch.setattr(doctor, "_module_version", lambda mod, attr="__version__": "2.1.0")
    check = doctor.check_numpy()
    assert not check.ok and "numpy<2" in check.detail


class _Scale(gr.sync_block):
    def __init__(self, k):
        gr.sync_block.__init__(self, "scale", [np.float32], [np.float32])
        self.k = k

    def work(self, input_items, output_items):
        output_items[0][:] = input_items[0] * self.k
        return len(output_items[0])


class _Boom(_Scale):
    def work(self, input_items, output_items):
        raise ValueError("boom in work")


def test_watchdog_runs_a_flowgraph_to_completion(run_flowgraph):
    tb = gr.top_block()
    src = blocks.vector_source_f(np.arange(1000, dtype=np.float32))
    snk = blocks.vector_sink_f()
    scale = _Scale(2.0)  # Python blocks must stay referenced while the flowgraph runs
    tb.connect(src, scale, snk)
    run_flowgraph(tb, timeout=10)
    np.testing.assert_allclose(snk.data(), 2.0 * np.arange(1000))


def test_watchdog_fails_fast_when_a_python_block_raises(run_flowgraph):
    from conftest import FlowgraphError

    tb = gr.top_block()
    src = blocks.vector_source_f(np.zeros(10, dtype=np.float32), repeat=True)
    boom = _Boom(1.0)
    tb.connect(src, boom, blocks.null_sink(gr.sizeof_float))
    t0 = time.monotonic()
    with pytest.raises(FlowgraphError, match="boom in work"):
        run_flowgraph(tb, timeout=20)
    assert time.monotonic() - t0 < 10


def test_watchdog_times_out_a_flowgraph_that_never_ends(run_flowgraph):
    from conftest import FlowgraphError

    tb = gr.top_block()
    src = blocks.vector_source_f(np.zeros(10, dtype=np.float32), repeat=True)
    tb.connect(src, blocks.throttle(gr.sizeof_float, 1e5), blocks.null_sink(gr.sizeof_float))
    with pytest.raises(FlowgraphError, match="did not finish"):
        run_flowgraph(tb, timeout=1.0)


@pytest.mark.hardware("pluto")
def test_pluto_is_found():
    version, _, plutos = doctor.check_iio()
    assert version.ok
    if plutos.detail == "none attached":
        pytest.skip("no PlutoSDR attached")
    assert plutos.ok


@pytest.mark.hardware("usrp")
def test_usrp_is_found():
    version, usrps = doctor.check_uhd()
    assert version.ok
    if usrps.detail == "none attached":
        pytest.skip("no USRP attached")
    assert usrps.ok


class _MsgBoom(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, "msg_boom", None, None)
        import pmt
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self.handle)

    def handle(self, msg):
        raise RuntimeError("boom in a message handler")


def test_watchdog_catches_message_handler_exceptions(run_flowgraph):
    import pmt
    from conftest import FlowgraphError

    tb = gr.top_block()
    strobe = blocks.message_strobe(pmt.intern("hi"), 10)
    boom = _MsgBoom()
    tb.msg_connect(strobe, "strobe", boom, "in")
    with pytest.raises(FlowgraphError, match="boom in a message handler"):
        run_flowgraph(tb, timeout=10)
