"""Per-frame log (JSON lines) and run counters for the receiver.

Each event is one JSON object per line: ``{"t": wall time, "event": ..., ...}``; events are
``frame`` (decoded: header fields, CFO, timing, SNR and noise estimates), ``crc_fail``,
``model_mismatch``, ``truncated`` (input ended inside a frame) and image-level
``image`` records written by the decoder. Counters are kept even without a file;
``sync_fail`` counts detector triggers that the long training field did not confirm (on noise
alone tens per second at 1 MS/s, by design: it is a counter only, no event per trigger). Lost
frames are counted by the decoder from sequence gaps (``frames_missing``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections import Counter
from pathlib import Path

COUNTERS = ("detected", "sync_fail", "crc_fail", "model_mismatch", "truncated",
            "frames_decoded", "duplicates", "images_complete", "images_partial")


DROP_REASONS = {
    "crc_fail": "header CRC failed",
    "model_mismatch": "frame from another model (header model id differs)",
    "truncated": "frame cut short (input ended, or its signal vanished mid-frame)",
}
_log = logging.getLogger("semcom.rx")
_SHARED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()   # path -> open FrameLog
_SHARED_LOCK = threading.Lock()


class FrameLog:
    def __init__(self, path: str | Path | None = None, logger=None):
        self.counts: Counter = Counter({k: 0 for k in COUNTERS})
        self._lock = threading.Lock()
        self._fh = None
        self._warned: set[str] = set()
        self.logger = logger
        self.listeners: list = []   # callables (event, fields), e.g. a SigMF recorder's
        self._closed = False
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "a", buffering=1)  # line-buffered: valid lines on Ctrl-C

    @classmethod
    def shared(cls, path: str | Path | None) -> FrameLog:
        """The open log of ``path`` in this process, made on first use (as
        ``logging.getLogger(name)``): the receiver, decoder and feedback blocks of one graph
        given the same ``log_path`` write one file and keep one set of counters, with no
        wiring from outside the graph. An empty path gives a private log (counters only)."""
        if not path:
            return cls()
        key = str(Path(path).resolve())
        with _SHARED_LOCK:
            log = _SHARED.get(key)
            if log is None or log.closed:
                log = cls(path)
                _SHARED[key] = log
            return log

    @property
    def closed(self) -> bool:
        return self._closed

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def event(self, event: str, **fields) -> None:
        rec = {"t": round(time.time(), 6), "event": event, **fields}
        first = False
        with self._lock:
            if self._fh:
                self._fh.write(json.dumps(rec, default=_jsonable) + "\n")
            if event in DROP_REASONS and event not in self._warned:
                self._warned.add(event)
                first = True
        for listen in self.listeners:
            listen(event, fields)
        if first:
            # one clear line per cause; the rest are counted (summary) and in the JSON log
            msg = f"dropping frames: {DROP_REASONS[event]} (first at {fields.get('at', '?')}; " \
                  f"later ones are counted)"
            (self.logger.warn if self.logger is not None else _log.warning)(msg)

    def summary(self) -> dict:
        with self._lock:
            return dict(self.counts)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._fh:
                self._fh.close()
                self._fh = None


def _jsonable(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)
