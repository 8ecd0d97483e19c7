"""The feedback report, RX -> TX: one dataclass, JSON in and out (the only definition of the
wire format; :mod:`sdr_rx.feedback` sends it, :mod:`sdr_tx.feedback` parses it).

One JSON object per ZMQ message. Common keys: ``session`` (the RX run), ``seq`` (report
counter), ``t`` (the RX's wall clock, s). A frame report carries ``snr_est_db`` (the RX's
calibrated estimate; ``snr_db`` is written too, the key's name before this module, and read
when ``snr_est_db`` is absent), ``noise_var``, ``image_id``, ``frame_idx``, ``frame_count``,
``keep``, ``frames_received`` and ``crc_failures`` (run totals). An image report carries
``image_done`` (the image id), ``partial``, ``lost`` (the image was not delivered: a digital
image's codeword failed its CRC or a frame never came; the TX's ``--mcs auto`` outer loop
learns from it, :mod:`sdr_tx.mcs_controller`; absent in older reports: false) and
``snr_est_db`` (``est_snr_db`` too, its old name).

SNR keys everywhere: ``snr_db`` is a set SNR (in a report only the older name of
``snr_est_db``), ``snr_est_db`` the RX's calibrated estimate; every SNR key and the quantity it
names (``snr_used_db``: the TX controller's decision, ``snr_est_raw_db``: the estimate before the
correction, ...) is listed once in :data:`semcom.pdu.SNR_KEYS`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

MAX_BYTES = 4096          # a report is ~300 bytes; anything larger is not one


class ReportError(ValueError):
    """A message that is not a feedback report (the receiver counts and drops it)."""


@dataclass
class FeedbackReport:
    kind: str                         # "frame" or "image"
    image_id: int
    snr_est_db: float | None = None
    session: str = ""
    seq: int = -1
    t: float = 0.0
    noise_var: float = math.nan
    frame_idx: int = -1
    frame_count: int = 0
    keep: int = 0
    frames_received: int = 0
    crc_failures: int = 0
    partial: bool = False
    lost: bool = False

    @classmethod
    def frame(cls, header, snr_est_db: float, noise_var: float, counters: dict,
              **kw) -> FeedbackReport:
        """A frame report from a decoded frame's header and the RX's run counters."""
        return cls("frame", int(header.image_id), round(float(snr_est_db), 3),
                   noise_var=float(noise_var), frame_idx=int(header.frame_idx),
                   frame_count=int(header.frame_count), keep=int(header.keep),
                   frames_received=int(counters.get("frames_decoded", 0)),
                   crc_failures=int(counters.get("crc_fail", 0)), **kw)

    @classmethod
    def image(cls, rec: dict, **kw) -> FeedbackReport:
        """An image report from the decoder's image record."""
        snr = rec.get("snr_est_db", rec.get("est_snr_db"))
        return cls("image", int(rec["image_id"]), None if snr is None else float(snr),
                   partial=bool(rec.get("partial", False)),
                   lost=bool(rec.get("lost", False)), **kw)

    def to_dict(self) -> dict:
        d = {"session": self.session, "seq": self.seq, "t": self.t}
        if self.kind == "frame":
            d.update(snr_est_db=self.snr_est_db, snr_db=self.snr_est_db,
                     noise_var=self.noise_var, image_id=self.image_id,
                     frame_idx=self.frame_idx, frame_count=self.frame_count, keep=self.keep,
                     frames_received=self.frames_received, crc_failures=self.crc_failures)
        else:
            d.update(image_done=self.image_id, partial=self.partial, lost=self.lost,
                     snr_est_db=self.snr_est_db, est_snr_db=self.snr_est_db)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, data: bytes | str) -> FeedbackReport:
        """Parse one message; anything that is not a report raises :class:`ReportError`."""
        if len(data) > MAX_BYTES:
            raise ReportError(f"{len(data)} bytes: too long for a report")
        try:
            msg = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ReportError(f"not JSON: {exc}") from None
        if not isinstance(msg, dict):
            raise ReportError("not a JSON object")
        return cls.from_dict(msg)

    @classmethod
    def from_dict(cls, msg: dict) -> FeedbackReport:
        try:
            common = {"session": str(msg.get("session", "")), "seq": int(msg.get("seq", -1)),
                      "t": float(msg.get("t", time.time()))}
            if "image_done" in msg:
                snr = msg.get("snr_est_db", msg.get("est_snr_db"))
                return cls("image", int(msg["image_done"]),
                           None if snr is None else _finite(snr),
                           partial=bool(msg.get("partial", False)),
                           lost=bool(msg.get("lost", False)), **common)
            snr = msg.get("snr_est_db", msg.get("snr_db"))
            if snr is None:
                raise ReportError("neither a frame report (snr_est_db) nor an image report "
                                  "(image_done)")
            return cls("frame", int(msg.get("image_id", -1)), _finite(snr),
                       noise_var=float(msg.get("noise_var", math.nan)),
                       frame_idx=int(msg.get("frame_idx", -1)),
                       frame_count=int(msg.get("frame_count", 0)), keep=int(msg.get("keep", 0)),
                       frames_received=int(msg.get("frames_received", 0)),
                       crc_failures=int(msg.get("crc_failures", 0)), **common)
        except (TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, ReportError):
                raise
            raise ReportError(f"a field of the wrong type: {exc}") from None


def _finite(v) -> float:
    f = float(v)
    if not math.isfinite(f):
        raise ReportError(f"SNR {v!r} is not finite")
    return f
