"""Shared pytest set-up: markers, the --hardware option and a GNU Radio watchdog runner."""

from __future__ import annotations

import os
import threading
import time

import pytest

HARDWARE_KINDS = ("pluto", "usrp")


def pytest_addoption(parser):
    parser.addoption("--hardware", action="append", default=[], choices=HARDWARE_KINDS,
                     help="run the hardware tests for this radio kind (repeatable); they still "
                          "skip when no such device is found")


IIO_EMU_PORT = 30431        # iiod's port, which iio-emu serves


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "emu: runs the Pluto path against iio-emu (an emulated PlutoSDR); skipped "
                   "unless an iio-emu binary is on PATH and a Pluto device description is "
                   "found (SEMCOM_PLUTO_XML, or the one pytest-libiio ships)")


def pluto_xml():
    """A PlutoSDR device description for iio-emu: $SEMCOM_PLUTO_XML, else pytest-libiio's."""
    from pathlib import Path

    env = os.environ.get("SEMCOM_PLUTO_XML", "")
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        import pytest_libiio
    except ImportError:
        return None
    found = sorted(Path(pytest_libiio.__file__).parent.rglob("*pluto*.xml"))
    return found[0] if found else None


def _emu_missing() -> str:
    import shutil

    if not shutil.which("iio-emu"):
        return "no iio-emu binary on PATH"
    if pluto_xml() is None:
        return "no Pluto device description (set SEMCOM_PLUTO_XML or install pytest-libiio)"
    return ""


@pytest.fixture
def iio_emu():
    """An emulated PlutoSDR (``iio-emu generic PLUTO.xml``) on localhost -> its libiio URI."""
    import socket
    import subprocess

    why = _emu_missing()
    if why:
        pytest.skip(why)
    proc = subprocess.Popen(["iio-emu", "generic", str(pluto_xml())],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", IIO_EMU_PORT), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"iio-emu did not serve port {IIO_EMU_PORT} "
                                f"(exit {proc.poll()})")
                time.sleep(0.2)
        yield "ip:127.0.0.1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pytest_collection_modifyitems(config, items):
    wanted = set(config.getoption("--hardware"))
    emu_missing = _emu_missing()
    for item in items:
        if emu_missing and item.get_closest_marker("emu") is not None:
            item.add_marker(pytest.mark.skip(reason=f"emu test: {emu_missing}"))
        marker = item.get_closest_marker("hardware")
        if marker is None:
            continue
        kind = marker.args[0] if marker.args else None
        if kind not in wanted:
            item.add_marker(pytest.mark.skip(
                reason=f"hardware test for {kind}: run with --hardware {kind}"))


@pytest.fixture(autouse=True, scope="session")
def _quiet_gnuradio_logs():
    os.environ.setdefault("GR_CONF_LOG_LEVEL", "warn")
    yield


class FlowgraphError(AssertionError):
    """A flowgraph under test raised in a Python block or did not finish in time."""


class _ExceptionRecorder:
    """Records exceptions raised in Python blocks' work and message handlers.

    GNU Radio's default top block (``catch_exceptions=True``) only logs an exception in a
    Python block and the flowgraph then waits forever; ``catch_exceptions=False`` aborts the
    whole process. Neither is what a test wants, so the runner wraps the gateway and turns the
    first exception into a test failure.
    """

    def __init__(self):
        self.errors: list[BaseException] = []
        self.event = threading.Event()

    def record(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self.event.set()


@pytest.fixture
def run_flowgraph(monkeypatch):
    """Run a ``gr.top_block`` to completion under a watchdog.

    ``run_flowgraph(tb, timeout=30.0, until=None)``: starts ``tb``; returns when it finishes,
    or, when ``until`` (a callable) is given, as soon as ``until()`` is true, then stops it.
    Fails the test (never hangs) when a Python block raises or the time-out passes.
    """
    from gnuradio.gr import gateway

    recorder = _ExceptionRecorder()
    orig_work = gateway.gateway_block.handle_general_work
    orig_set_handler = gateway.gateway_block.set_msg_handler

    def handle_general_work(self, *args, **kwargs):
        try:
            return orig_work(self, *args, **kwargs)
        except BaseException as exc:
            recorder.record(exc)
            raise

    def set_msg_handler(self, port, handler):
        # the gateway finds a handler by its name on the block: register the wrapper so
        def wrapped(msg):
            try:
                return handler(msg)
            except BaseException as exc:
                recorder.record(exc)
                raise
        name = f"_watchdog_{handler.__name__}"
        wrapped.__name__ = name
        object.__setattr__(self, name, wrapped)
        return orig_set_handler(self, port, wrapped)

    monkeypatch.setattr(gateway.gateway_block, "handle_general_work", handle_general_work)
    monkeypatch.setattr(gateway.gateway_block, "set_msg_handler", set_msg_handler)

    def run(tb, timeout: float = 30.0, until=None, poll: float = 0.02):
        done = threading.Event()
        tb.start()

        def waiter():
            tb.wait()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        deadline = time.monotonic() + timeout
        reason = None
        while True:
            if recorder.errors:
                reason = "error"
                break
            if done.is_set():
                break
            if until is not None and until():
                break
            if time.monotonic() > deadline:
                reason = "timeout"
                break
            done.wait(poll)
        if not done.is_set():
            tb.stop()
            tb.wait()
        if reason == "error":
            err = recorder.errors[0]
            raise FlowgraphError(f"a Python block raised {type(err).__name__}: {err}") from err
        if reason == "timeout":
            raise FlowgraphError(f"flowgraph did not finish within {timeout:.1f} s")
        return tb

    return run
