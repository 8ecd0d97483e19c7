"""Feedback receiver: the TX's end of the report link (ZMQ PULL, binds).

A thread parses each JSON report from the RX (:mod:`sdr_rx.feedback` documents the fields),
hands frame reports to the :class:`sdr_tx.rate_controller.RateController` and calls
``on_image_done`` for finished images (the TX's window of images in flight). Messages that are
not JSON objects are counted and dropped.
"""

from __future__ import annotations

import json
import threading
import time

import zmq

from sdr_tx.rate_controller import RateController, Report


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
        self._thread.join(timeout=2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(100):
                continue
            try:
                msg = json.loads(self.sock.recv())
                if not isinstance(msg, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError):
                self.bad += 1
                continue
            now = time.monotonic()
            with self.lock:
                self.reports += 1
                self.last_t = now
                if "snr_db" in msg:
                    try:
                        r = Report(int(msg.get("seq", -1)), float(msg["snr_db"]),
                                   float(msg.get("noise_var", "nan")),
                                   int(msg.get("frames_received", 0)),
                                   int(msg.get("crc_failures", 0)),
                                   int(msg.get("image_id", -1)), int(msg.get("frame_idx", -1)),
                                   str(msg.get("session", "")))
                    except (TypeError, ValueError):
                        self.bad += 1
                        continue
                    self.controller.on_report(r, now)
            if "image_done" in msg and self.on_image_done is not None:
                self.on_image_done(msg)
