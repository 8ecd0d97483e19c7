"""``semcom rx --gui``: the Qt receiver view (``flowgraphs/semcom_rx_gui.grc``: spectrum,
equalised constellation, received image with its SNR and keep) in place of the plain RX graph,
with any input: ZMQ, a file or a replayed recording (the graph's IQ source; a file plays once at
the sample rate), or a radio (``semcom_rx_gui_{pluto,usrp}.grc``, the device source in place of
the IQ source and throttle). The run is :func:`apps.rx.run`'s: same outputs, same stop rules
(end of file, ``--num-images``, ``--idle-timeout``, Ctrl-C/SIGTERM) plus closing the window.
"""

from __future__ import annotations

import signal
import sys


def application():
    """The process's QApplication (made once, before any Qt graph is built; kept here: an
    unreferenced one is destroyed at once)."""
    from PyQt5 import Qt

    if not _APP:
        _APP.append(Qt.QApplication.instance() or
                    Qt.QApplication([sys.argv[0] if sys.argv else "semcom"]))
    return _APP[0]


_APP: list = []


def build(kind: str, address: str, **common):
    """The Qt RX graph on a ZMQ address or a cf32 file (played once, not looped)."""
    application()
    from flowgraphs.semcom_rx_gui import semcom_rx_gui

    return semcom_rx_gui(source_kind=kind, source_address=address, repeat=0, **common)


def run_until(tb, should_stop, poll_ms: int = 100) -> None:
    """Shows the graph's window and runs Qt's event loop until ``should_stop()`` is true or
    the window is closed. Ctrl-C and SIGTERM quit the loop, then reach the caller as they
    would without a GUI (KeyboardInterrupt / the CLI's SIGTERM handler): a Python exception
    inside a Qt slot would abort the process instead."""
    from PyQt5 import Qt

    app = application()
    got: list[int] = []

    def on_signal(signum, frame):
        got.append(signum)
        app.quit()
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    timer = Qt.QTimer()
    timer.timeout.connect(lambda: app.quit() if should_stop() else None)
    timer.start(poll_ms)        # also lets Python run its signal handlers
    tb.show()
    try:
        app.exec_()
    finally:
        timer.stop()
        tb.hide()
        for s, h in old.items():
            signal.signal(s, h)
    if got:
        signal.raise_signal(got[0])     # the handler the caller had: stops as without a GUI
