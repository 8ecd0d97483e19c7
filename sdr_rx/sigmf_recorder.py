"""SigMF recorder: the raw received IQ as a SigMF recording (``NAME.sigmf-data``, cf32_le, and
``NAME.sigmf-meta``), written with the ``sigmf`` library, plus one annotation per detected frame.

:class:`SigmfRecorder` is the plain class; :class:`sigmf_sink` is the thin GNU Radio block that
feeds it from the IQ path (beside the OFDM receiver, on the same stream, so a frame's
``timing`` is its sample index in the recording). Samples are written with one ``os.write``
per block (vectorised, unbuffered: what was written survives a SIGKILL of the process).

Metadata: global ``core:datatype`` cf32_le, ``core:sample_rate``, ``core:hw``,
``core:recorder`` (semcom and its version), ``core:description`` and, in the declared ``semcom``
extension namespace (``core:extensions``), ``semcom:version``, ``semcom:command`` (the exact
command line), ``semcom:source``, ``semcom:model_hash`` (the receiver's model) and
``semcom:frequency_known`` (false for the emulator and files: ``core:frequency`` is then 0).
One capture segment at sample 0, one more per :meth:`SigmfRecorder.retune` (a retune or gain
change). One annotation per detected frame (:meth:`SigmfRecorder.on_event`, fed by the RX's
frame log): ``core:sample_start`` (the burst's first STF sample), ``core:sample_count``,
``core:label`` (``frame``, ``side``, ``crc_fail``, ``model_mismatch``, ``truncated``) and
``semcom:header_status``, ``semcom:session``, ``semcom:image_id``,
``semcom:frame_idx``, ``semcom:frame_count``, ``semcom:seq``, ``semcom:keep``,
``semcom:model_id``, ``semcom:snr_est_db``, ``semcom:cfo_hz`` where known.

Crash safety: the metadata is rewritten atomically (temporary file, then rename) every 0.5 s
while it changes, by a writer thread (each annotation is encoded once: a rewrite takes a few ms
for 10,000 frames; past 50 ms a rewrite, about 15,000 frames, the interval grows so rewrites
take at most 10% of the time), and lists only annotations whose samples are already in the data
file; it carries no ``core:sha512`` until :meth:`SigmfRecorder.close` (the data grows after
each rewrite; the hash is computed as the samples are written, so closing takes no time).
So Ctrl-C, SIGTERM and SIGKILL all leave a recording that loads and validates.
Limits: ``max_seconds`` / ``max_bytes`` stop the recording (the receiver goes on). A full disk
(ENOSPC, EDQUOT, EFBIG) stops it with one clear line and keeps what was written (whole samples).
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
from gnuradio import gr

from semcom import numerology as nm
from semcom.validate import record_dir

DATATYPE = "cf32_le"
ITEM = 8                                  # bytes per cf32 sample
EXTENSION = {"name": "semcom", "version": "1.0.0", "optional": True}
NS = "semcom:"
META_INTERVAL_S = 0.5                     # metadata rewritten at least this often when changed
PRETTY_MAX = 5000                         # annotations up to which the final metadata is indented
LTF_BODY0 = 2 * nm.SYM_LEN + nm.CP_LEN    # first LTF body from the burst start (sdr_rx.sync)
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


check_record_dir = record_dir     # refuses a non-empty folder without force, a read-only one


def frame_span(payload_len: int) -> int:
    """Samples of a burst from its first STF sample to the end of its payload."""
    return LTF_BODY0 + (2 + nm.HEADER_SYMBOLS + -(-int(payload_len) // nm.N_DATA)) * nm.SYM_LEN


HEADER_KEYS = {"session": "session", "image_id": "image_id", "frame_idx": "frame_idx",
               "frame_count": "frame_count", "seq": "seq", "keep": "keep",
               "model_id": "model_id", "payload_len": "payload_len"}


def event_annotation(event: str, f: dict) -> tuple[int, int, dict] | None:
    """A frame-log event -> (sample_start, sample_count, annotation fields) or None."""
    hdr = {NS + k: f[v] for k, v in HEADER_KEYS.items() if v in f}
    side = bool(f.get("flags", 0) & 1)
    if event == "frame":
        start = int(f["timing"]) - LTF_BODY0
        count = frame_span(f["payload_len"])
        label, status = ("side" if side else "frame"), "ok"
        hdr[NS + "snr_est_db"] = float(f["snr_est_db"])
        hdr[NS + "cfo_hz"] = float(f["cfo_hz"])
        hdr[NS + "noise_var"] = float(f["noise_var"])
        hdr[NS + "side"] = side
    elif event == "crc_fail":
        start = int(f["at"]) - LTF_BODY0
        count = frame_span(0)
        label = status = "crc_fail"
        if "cfo_hz" in f:
            hdr[NS + "cfo_hz"] = float(f["cfo_hz"])
    elif event == "model_mismatch":
        start = int(f["at"]) - LTF_BODY0
        count = frame_span(f.get("payload_len", 0))
        label = status = "model_mismatch"
    elif event == "truncated":
        count = frame_span(f.get("payload_len", 0))
        if "reason" in f:                      # payload pilots missing: ``at`` is the LTF body
            start = int(f["at"]) - LTF_BODY0
        else:                                  # the input ended: ``at`` is the frame's end
            start = int(f["at"]) - count
        label = status = "truncated"
    else:
        return None
    hdr[NS + "header_status"] = status
    start = max(0, start)
    return start, int(count), {"core:label": label, **hdr}


class SigmfRecorder:
    def __init__(self, folder, name: str = "rx", samp_rate: float = 1e6,
                 frequency: float = 0.0, frequency_known: bool = False, hw: str = "",
                 command: str = "", description: str = "", max_seconds: float = 0.0,
                 max_bytes: int = 0, extra: dict | None = None, warn=None,
                 meta_interval: float = META_INTERVAL_S):
        from semcom import __version__

        self.folder = Path(folder)
        self.name = name
        self.data_path = self.folder / f"{name}.sigmf-data"
        self.meta_path = self.folder / f"{name}.sigmf-meta"
        self.samp_rate = float(samp_rate)
        self.warn = warn or (lambda msg: print(msg, file=sys.stderr, flush=True))
        limits = []
        if max_seconds:
            limits.append(int(max_seconds * self.samp_rate))
        if max_bytes:
            limits.append(int(max_bytes) // ITEM)
        self.limit = min(limits) if limits else None
        self.samples = 0
        self.stopped = ""               # why recording stopped ("" while it goes on)
        self._lock = threading.Lock()
        self._annotations: list[dict] = []
        self._encoded: list[tuple[int, int, str]] = []   # (start, end, compact JSON) each
        self._dirty = True
        self._meta_failed = False
        self.glob = {
            "core:datatype": DATATYPE, "core:sample_rate": self.samp_rate,
            "core:hw": hw or "unknown", "core:recorder": f"semcom {__version__}",
            "core:description": description or "semcom RX: raw received IQ",
            "core:extensions": [dict(EXTENSION)],
            NS + "version": __version__, NS + "command": command,
            NS + "frequency_known": bool(frequency_known),
            **{(k if ":" in k else NS + k): v for k, v in (extra or {}).items()},
        }
        self.captures = [self._capture(0, frequency, None)]
        self.frequency = float(frequency)
        self._fd = os.open(self.data_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._sha = hashlib.sha512()    # of what is kept, as it is written (close is instant)
        self._write_meta(validate=True)
        self._stop = threading.Event()
        self.meta_interval = float(meta_interval)
        self._thread = threading.Thread(target=self._writer, name="sigmf-meta", daemon=True)
        self._thread.start()

    # -- samples ------------------------------------------------------------------------------
    def write(self, x: np.ndarray) -> None:
        """Append a block of samples (one system call; nothing after a stop)."""
        if self.stopped:
            return
        x = np.ascontiguousarray(x, dtype=np.complex64)
        n = len(x)
        if self.limit is not None and self.samples + n >= self.limit:
            n = self.limit - self.samples
        buf = memoryview(x[:n]).cast("B")
        done = 0
        try:
            while done < len(buf):
                done += os.write(self._fd, buf[done:])
        except OSError as exc:
            whole = done // ITEM
            if done % ITEM:         # never leave half a sample
                try:
                    os.ftruncate(self._fd, (self.samples + whole) * ITEM)
                except OSError:
                    pass
            self.samples += whole
            self._sha.update(buf[:whole * ITEM])
            why = ("disk full" if exc.errno == errno.ENOSPC else "file too large"
                   if exc.errno == errno.EFBIG else "disk quota exceeded"
                   if exc.errno == errno.EDQUOT else f"write failed ({exc.strerror or exc})")
            self._halt(f"recording stopped: {why} writing {self.data_path}; kept "
                       f"{self.samples} samples ({self.samples / self.samp_rate:.2f} s), the "
                       "recording stays valid")
            return
        self.samples += n
        self._sha.update(buf)
        if self.limit is not None and self.samples >= self.limit:
            self._halt(f"recording stopped at its limit: {self.samples} samples "
                       f"({self.samples / self.samp_rate:.2f} s, {self.samples * ITEM} bytes); "
                       "the receiver goes on")
        with self._lock:
            self._dirty = True

    def _halt(self, message: str) -> None:
        self.stopped = message
        with self._lock:
            self._dirty = True
        self.warn(f"rx: {message}")

    # -- metadata -----------------------------------------------------------------------------
    def _capture(self, start: int, frequency, gain) -> dict:
        cap = {"core:sample_start": int(start), "core:frequency": float(frequency or 0.0),
               "core:datetime": datetime.datetime.now(datetime.UTC)
               .strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        if gain is not None:
            cap[NS + "gain_db"] = float(gain)
        return cap

    def retune(self, frequency: float | None = None, gain_db: float | None = None) -> None:
        """A new capture segment from the next sample (a retune or a gain change)."""
        with self._lock:
            self.frequency = self.frequency if frequency is None else float(frequency)
            cap = self._capture(self.samples, self.frequency, gain_db)
            if self.captures[-1]["core:sample_start"] == cap["core:sample_start"]:
                self.captures[-1] = cap
            else:
                self.captures.append(cap)
            self._dirty = True

    def annotate(self, start: int, count: int, fields: dict) -> None:
        ann = {"core:sample_start": int(start), "core:sample_count": int(count), **fields}
        text = json.dumps(ann, separators=(",", ":"), sort_keys=True)   # encoded once
        with self._lock:
            self._annotations.append(ann)
            self._encoded.append((int(start), int(start) + int(count), text))
            self._dirty = True

    def on_event(self, event: str, fields: dict) -> None:
        """A frame-log listener: one annotation per detected frame (never raises)."""
        try:
            ann = event_annotation(event, fields)
        except (KeyError, TypeError, ValueError):
            return
        if ann is not None:
            self.annotate(ann[0], ann[1], ann[2])

    def metadata(self, final: bool = False) -> dict:
        """The metadata of what is in the data file now (annotations sorted; at the end,
        those that reach past the data are cut to it)."""
        with self._lock:
            end = self.samples
            anns = []
            for a in self._annotations:
                s, c = a["core:sample_start"], a["core:sample_count"]
                if s + c <= end:
                    anns.append(a)
                elif final and s < end:
                    anns.append({**a, "core:sample_count": end - s, NS + "cut": True})
            caps = [dict(c) for c in self.captures if c["core:sample_start"] <= max(end, 0)]
            glob = dict(self.glob)
            if self.stopped:
                glob[NS + "stopped"] = self.stopped
        anns.sort(key=lambda a: a["core:sample_start"])
        return {"global": glob, "captures": caps or [dict(self.captures[0])],
                "annotations": anns}

    def _write_meta(self, final: bool = False, validate: bool = False) -> None:
        """The whole metadata through the sigmf library: validated, with the data's sha512
        when final (pretty JSON up to PRETTY_MAX annotations, compact beyond)."""
        from sigmf import SigMFFile
        from sigmf import __specification__ as spec

        meta = self.metadata(final)
        meta["global"]["core:version"] = spec
        if final:
            meta["global"]["core:sha512"] = self._sha.hexdigest()
        if validate or final:
            from sigmf import validate as sigmf_validate
            sigmf_validate.validate(meta)
        if len(meta["annotations"]) <= PRETTY_MAX:
            buf = io.StringIO()
            SigMFFile(metadata=meta).dump(buf, pretty=True)
            text = buf.getvalue()
        else:
            text = json.dumps(meta, separators=(",", ":"))
        self._replace(text)

    def _write_fast(self) -> None:
        """The periodic rewrite: the same metadata, from annotations encoded once (a few ms
        for 10,000 frames), never validated again (its form was, at the first write)."""
        from sigmf import __specification__ as spec

        with self._lock:
            end = self.samples
            anns = sorted((a for a in self._encoded if a[1] <= end), key=lambda a: a[0])
            caps = [dict(c) for c in self.captures if c["core:sample_start"] <= end]
            glob = dict(self.glob, **{"core:version": spec})
            if self.stopped:
                glob[NS + "stopped"] = self.stopped
        self._replace('{"global":' + json.dumps(glob) + ',"captures":' +
                      json.dumps(caps or [dict(self.captures[0])]) + ',"annotations":[' +
                      ",".join(a[2] for a in anns) + "]}")

    def _replace(self, text: str) -> None:
        """Write the metadata atomically (a temporary file renamed over it)."""
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        try:
            with open(tmp, "w") as fp:
                fp.write(text)
                fp.write("\n")
            os.replace(tmp, self.meta_path)
        except OSError as exc:          # a full disk: the last metadata written stays valid
            try:
                tmp.unlink()
            except OSError:
                pass
            if not self._meta_failed:
                self._meta_failed = True
                self.warn(f"rx: cannot rewrite {self.meta_path} ({exc.strerror or exc}); the "
                          "last metadata written stays")

    def _writer(self) -> None:
        wait = self.meta_interval
        while not self._stop.wait(wait):
            with self._lock:
                dirty, self._dirty = self._dirty, False
            if dirty:
                t0 = time.perf_counter()
                try:
                    self._write_fast()
                except Exception as exc:  # never takes the receiver down
                    self.warn(f"rx: recording metadata not written: {exc}")
                # at most 10% of the time on rewrites: every 0.5 s up to 50 ms a write
                # (about 15,000 annotations), then less often
                wait = max(self.meta_interval, 10 * (time.perf_counter() - t0))

    def close(self) -> None:
        """Stop the writer, write the final metadata (with the data's sha512), close."""
        if self._fd is None:
            return
        self._stop.set()
        self._thread.join(2.0)
        try:
            os.close(self._fd)
        finally:
            self._fd = None
        self._write_meta(final=True)

    def summary(self) -> dict:
        with self._lock:
            n_ann = len(self._annotations)
        return {"meta": str(self.meta_path), "samples": self.samples,
                "seconds": round(self.samples / self.samp_rate, 3), "annotations": n_ann,
                "stopped": self.stopped or None}


class sigmf_sink(gr.sync_block):  # noqa: N801
    """Thin GNU Radio block: complex64 in, every block handed to a :class:`SigmfRecorder`
    (keep a reference to it as long as the flowgraph runs)."""

    def __init__(self, recorder: SigmfRecorder):
        gr.sync_block.__init__(self, name="semcom_sigmf_sink", in_sig=[np.complex64],
                               out_sig=None)
        self.recorder = recorder

    def work(self, input_items, output_items):
        self.recorder.write(input_items[0])
        return len(input_items[0])


def attach(tb, source, log, folder, samp_rate: float, **meta) -> SigmfRecorder:
    """Record ``source``'s output port 0 in ``tb`` to ``folder/rx.sigmf-*`` (``meta``: the
    other :class:`SigmfRecorder` arguments), one annotation per event of the frame ``log``.
    -> the recorder (close it after the flowgraph)."""
    rec = SigmfRecorder(folder, "rx", samp_rate, **meta)
    tb.recorder_sink = sigmf_sink(rec)       # referenced for as long as the flowgraph runs
    tb.connect((source, 0), (tb.recorder_sink, 0))
    log.listeners.append(rec.on_event)
    return rec
