"""Feedback sender: the RX's per-frame reports to the TX over ZMQ (PUSH, connects).

Each report is one JSON object: ``session`` (this RX run), ``seq`` (report counter),
``t``, and for a frame ``snr_db`` (calibrated estimate), ``noise_var``, ``image_id``,
``frame_idx``, ``frame_count``, ``frames_received`` and ``crc_failures`` (run totals); for a
decoded image ``image_done``. Sending never blocks the receiver: with no TX listening, reports
are dropped (the TX copes with lost feedback).
"""

from __future__ import annotations

import json
import time
import uuid

import zmq


class FeedbackSender:
    def __init__(self, address: str, hwm: int = 100):
        self.sock = zmq.Context.instance().socket(zmq.PUSH)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 200)
        self.sock.connect(address)
        self.session = uuid.uuid4().hex[:12]
        self.seq = 0
        self.dropped = 0

    def send(self, **fields) -> None:
        msg = {"session": self.session, "seq": self.seq, "t": time.time(), **fields}
        self.seq += 1
        try:
            self.sock.send_string(json.dumps(msg), zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += 1

    def frame(self, frame, counters: dict) -> None:
        h = frame.header
        self.send(snr_db=round(frame.snr_db, 3), noise_var=frame.noise_var_mean,
                  image_id=h.image_id, frame_idx=h.frame_idx, frame_count=h.frame_count,
                  keep=h.keep, frames_received=counters.get("frames_decoded", 0),
                  crc_failures=counters.get("crc_fail", 0))

    def image_done(self, rec: dict) -> None:
        self.send(image_done=rec["image_id"], partial=rec["partial"],
                  est_snr_db=rec["est_snr_db"])

    def close(self) -> None:
        self.sock.close()
