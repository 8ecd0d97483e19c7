"""Feedback sink block: the RX's end of the closed loop, inside the flowgraph.

Ports: ``frames`` in (the OFDM receiver's frame PDUs), ``images`` in (the decoder's image
records). Each frame and each finished image becomes a :class:`semcom.report.FeedbackReport`
sent over ZMQ (PUSH, connects) to ``address``, the TX's rate control (:mod:`sdr_rx.feedback`:
sending never blocks; with no TX listening reports are dropped and counted). An empty
``address`` sends nothing (the block may stay in the graph). The run counters in frame reports
(frames received, header CRC failures) are the receiver's log's when :meth:`attach` was given
it, else the frames this block saw and no CRC count.
"""

from __future__ import annotations

from types import SimpleNamespace

import pmt
from gnuradio import gr

from sdr_rx.feedback import FeedbackSender
from sdr_rx.framelog import FrameLog
from semcom.report import FeedbackReport


def _get(meta, key, default=None):
    v = pmt.dict_ref(meta, pmt.intern(key), pmt.PMT_NIL)
    return default if pmt.is_null(v) else pmt.to_python(v)


class feedback_sink(gr.basic_block):  # noqa: N801
    def __init__(self, address: str = "", log_path: str = ""):
        gr.basic_block.__init__(self, name="semcom_feedback_sink", in_sig=None, out_sig=None)
        for p, handler in (("frames", self.handle_frame), ("images", self.handle_image)):
            self.message_port_register_in(pmt.intern(p))
            self.set_msg_handler(pmt.intern(p), handler)
        # a malformed address raises zmq.ZMQError here (the app names the option)
        self.sender = FeedbackSender(address) if address else None
        # the run's counters in each frame report: the receiver's log, shared by path
        self.log = FrameLog.shared(log_path) if log_path else None
        self.frames_seen = 0
        self.bad = 0

    def handle_frame(self, msg):
        self.frames_seen += 1
        if self.sender is None:
            return
        try:
            meta = pmt.car(msg)
            hdr = SimpleNamespace(**{k: int(_get(meta, k)) for k in
                                     ("image_id", "frame_idx", "frame_count", "keep")})
            snr, nv = float(_get(meta, "snr_est_db")), float(_get(meta, "noise_var", "nan"))
        except (TypeError, ValueError):           # not a frame PDU: counted, dropped
            self.bad += 1
            return
        counts = self.log.counts if self.log is not None else \
            {"frames_decoded": self.frames_seen}
        self.sender.send(FeedbackReport.frame(hdr, snr, nv, counts))

    def handle_image(self, msg):
        if self.sender is None:
            return
        rec = pmt.to_python(msg) if pmt.is_dict(msg) else None
        if not isinstance(rec, dict) or "image_id" not in rec:
            self.bad += 1
            return
        self.sender.send(FeedbackReport.image(rec))

    @property
    def dropped(self) -> int:
        return self.sender.dropped if self.sender is not None else 0

    def stop(self):
        if self.sender is not None:
            self.sender.close()
        return gr.basic_block.stop(self)
