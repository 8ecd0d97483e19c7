"""Feedback receiver: the TX's end of the report link (ZMQ PULL, binds).

A thread parses each report from the RX (:class:`semcom.report.FeedbackReport`, the wire format),
hands frame reports to the :class:`sdr_tx.rate_controller.RateController` and calls
``on_image_done`` for finished images (the TX's window of images in flight). Messages that are
not JSON objects are counted and dropped.
"""

from __future__ import annotations

import threading
import time

import zmq

from sdr_tx.rate_controller import RateController, Report
from semcom.report import FeedbackReport, ReportError


class FeedbackReceiver:
    def __init__(self, address: str, controller: RateController, on_image_done=None):
        self.sock = zmq.Context.instance().socket(zmq.PULL)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(address)
        self.controller = controller
        self.on_image_done = on_image_done
        self.lock = threading.Lock()
        self.reports = 0
        self.bad = 0
        self.last_t = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="feedback")

    def start(self) -> FeedbackReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(100):
                continue
            try:
                rep = FeedbackReport.from_json(self.sock.recv())
            except ReportError:
                self.bad += 1
                continue
            now = time.monotonic()
            with self.lock:
                self.reports += 1
                self.last_t = now
                if rep.kind == "frame":
                    self.controller.on_report(
                        Report(rep.seq, rep.snr_est_db, rep.noise_var, rep.frames_received,
                               rep.crc_failures, rep.image_id, rep.frame_idx, rep.session),
                        now)
            if rep.kind == "image" and self.on_image_done is not None:
                self.on_image_done(rep)
