"""Feedback sender: the RX's reports to the TX over ZMQ (PUSH, connects).

The report is :class:`semcom.report.FeedbackReport` (the wire format is defined there): one per
decoded frame and one per finished image, stamped with this RX run's ``session``, a ``seq``
counter and the time. Sending never blocks the receiver: with no TX listening, reports are
dropped and counted (the TX copes with lost feedback).
"""

from __future__ import annotations

import time
import uuid

import zmq

from semcom.report import FeedbackReport


class FeedbackSender:
    def __init__(self, address: str, hwm: int = 100):
        self.sock = zmq.Context.instance().socket(zmq.PUSH)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 200)
        self.sock.connect(address)
        self.session = uuid.uuid4().hex[:12]
        self.seq = 0
        self.dropped = 0

    def send(self, report: FeedbackReport) -> None:
        report.session, report.seq, report.t = self.session, self.seq, time.time()
        self.seq += 1
        try:
            self.sock.send_string(report.to_json(), zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += 1

    def frame(self, frame, counters: dict) -> None:
        self.send(FeedbackReport.frame(frame.header, frame.snr_db, frame.noise_var_mean,
                                       counters))

    def image_done(self, rec: dict) -> None:
        self.send(FeedbackReport.image(rec))

    def close(self) -> None:
        self.sock.close()
