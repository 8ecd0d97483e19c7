"""JSCC decoder block: decoded-frame PDUs in, images out (files, metrics, messages).

Input port ``frames``: PDUs from :mod:`sdr_rx.ofdm_receiver`. Frames are reassembled per image
(:mod:`sdr_rx.reassembly`; lost frames leave zeros, the image is still decoded and flagged
partial), then decoded with the model at the frames' mean estimated SNR and the header's
``keep``. Each image is written to ``out_dir`` (when set) and published on port ``images``
(and to ``on_image(rec, img)``; img None for a lost image) as a dict: ``image_id, keep,
symbols, frames_received, frame_count, partial, est_snr_db, tx_snr_db, decode_ms`` and, when
``reference`` names the originals (a folder or file list in TX order, image ids counted from
``first_id``), ``psnr_db`` and ``ssim``.

Untrusted input never takes the process down: every header is checked against the model's
geometry and size limits before anything is allocated (``frames_rejected``); an image whose
side information is missing or fails its CRC is dropped and counted (``images_lost`` and
``images_lost_<cause>``); any other failure to decode an image is logged, counted
(``images_lost_decode_error``) and the receiver goes on. Lost images are published too, with
``lost: true`` and a ``cause``.

Accounting: per TX session (the header's run id) the decoder tracks the image ids and frame
sequence numbers it saw; skipped sequence numbers are counted (``frames_missing``), and at
``flush()`` every image id between the first and the last one seen that never arrived gets
an entry with ``lost: true``, ``cause: "not_received"`` (``images_lost_not_received``).
Files are ``image_s<session>_<id>.png`` (flat in ``out_dir``), so a restarted TX never
overwrites what the last run delivered, and a replay writes the same names.

Decoding runs off the receiver's path: a frame that completes an image hands the assembled
image to one worker thread through a bounded queue (``queue_images`` images), so the PHY never
waits for the model. When the queue is full the image is not decoded: it is published lost
(``cause: "decoder_backlog"``, counted in ``images_lost_decoder_backlog``, one warning), never
dropped silently. Each record carries ``queue_ms`` (time from its release by the reassembler to
the start of its decode) and ``queue_depth`` (images waiting then); the thread runs at a lower
priority than the PHY (nice +5); :attr:`max_queue_depth`
keeps the largest backlog seen. ``flush()`` waits for the queue to drain; a stopping
flowgraph (``stop()``, Ctrl-C included) waits at most ``STOP_WAIT_S`` and publishes what is
still queued as lost (``cause: "interrupted"``), so a stop stays within 2 s. ``threads`` sets
torch's intra-op threads for the model (process-wide, set before the first decode).
``queue_images=0`` decodes inline in the caller's thread instead (the old behaviour).

Metrics against references (PSNR, SSIM: about 20 ms CPU per 256x256 image together, nearly
the decode's) are evaluation, not reception: with references, a decoded image's PNG is
written first, then its record goes to a metrics thread at a low priority (nice +10: a tenth
of a normal thread's share of a busy core) that publishes it with ``psnr_db`` and ``ssim``;
records are published in the order they were made. So on a loaded machine the metrics wait
and the decoder, the PHY and the other processes keep the cores (not ``SCHED_IDLE``: on a
machine kept busy by other work the metrics, and a run that waits for them, would starve). When
``METRICS_QUEUE`` records are waiting, the decoder thread computes the next image's metrics
itself (memory stays bounded). :meth:`wait_idle` and :meth:`flush` wait for the metrics too;
after :meth:`interrupt` the records still waiting are published without them. References are
read once and kept (``REFERENCE_CACHE`` of them).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from sdr_rx.framelog import FrameLog
from sdr_rx.ofdm_receiver import local_frame
from sdr_rx.reassembly import Reassembler
from semcom import sideinfo
from semcom.header import SCHEME_DIGITAL, Header, HeaderError

MAX_SIDE = 4096     # largest image side a header may claim (memory bound for the decoder)
MAX_PIXELS = 1 << 22  # and largest image (4 Mpx: a decode stays well under 1 GB)
# exceptions that mean a bug in semcom rather than bad input: never swallowed
PROGRAMMING_ERRORS = (TypeError, AttributeError, NameError, KeyError, AssertionError,
                      ImportError)
MAX_SESSIONS = 16     # TX sessions tracked for gap accounting (the oldest is forgotten)
MAX_MISSING = 1000    # lost-image entries per session; more are only counted
QUEUE_IMAGES = 64     # assembled images waiting for the decoder (256x256 full keep: ~0.8 MB)
STOP_WAIT_S = 1.0     # a stopping flowgraph waits this long for the decoder's backlog
DECODER_NICE = 5      # the decoder thread yields the CPU to the PHY when cores are short
METRICS_NICE = 10     # the metrics thread (PSNR/SSIM) yields even to the decoder
METRICS_QUEUE = 64    # decoded images waiting for their metrics (then computed inline)
REFERENCE_CACHE = 64  # reference images kept in memory (decoded and sized once)


def _lower_priority(nice: int) -> None:
    """This thread's own nice value raised by ``nice`` (Linux; elsewhere, or not allowed:
    unchanged)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       os.getpriority(os.PRIO_PROCESS, 0) + nice)
    except (AttributeError, OSError):
        pass


def _queue_fields(asm) -> dict:
    """The decoder queue's wait and depth for an image's record (absent: not queued)."""
    return {k: getattr(asm, k) for k in ("queue_ms", "queue_depth") if hasattr(asm, k)}


class _RxFrame:
    """A decoded frame rebuilt from its PDU."""

    def __init__(self, msg):
        meta = pmt.to_python(pmt.car(msg))
        self.header = Header.from_dict(meta)
        self.symbols = np.asarray(pmt.c32vector_elements(pmt.cdr(msg)), np.complex64)
        self.noise_var = np.asarray(meta["noise_var_sym"], np.float32)
        self.snr_db = float(meta["snr_est_db"])


class jscc_decoder(gr.basic_block):  # noqa: N801
    def __init__(self, model: str = "default", out_dir: str = "", reference="",
                 first_id: int = 0, timeout_s: float = 2.0, threads: int = 1,
                 log: FrameLog | None = None, max_side: int = 0, log_path: str = "",
                 queue_images: int = QUEUE_IMAGES):
        gr.basic_block.__init__(self, name="semcom_jscc_decoder", in_sig=None, out_sig=None)
        from models.codec import JSCCCodec

        self.codec = JSCCCodec.load(model, threads=threads)
        self.out_dir = Path(out_dir) if out_dir else None
        if self.out_dir:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self.log = log or FrameLog.shared(log_path)   # the receiver's, given the same path
        self.reasm = Reassembler(timeout_s, self.log, needs_side=self.codec.side_bits > 0)
        self.digital = None      # frames of scheme 1 (sdr_rx.digital_decoder), made on demand
        self.timeout_s = timeout_s
        self.references = self._references(reference, max_side)
        self.first_id = int(first_id)
        self.lock = threading.Lock()
        self.results: list[dict] = []
        self.on_image = None
        self._stop = threading.Event()
        self.sessions: dict[int, dict] = {}     # session -> {"last_seq", "ids"}
        self.inline = int(queue_images) <= 0       # 0: decode in the caller's thread
        self.queue: queue.Queue = queue.Queue(max(1, int(queue_images)))
        self.max_queue_depth = 0
        self._worker: threading.Thread | None = None
        self._worker_error: BaseException | None = None
        self._backlog_warned = False
        self._metrics_q: queue.Queue = queue.Queue()    # (rec, img, ref): see _publish
        self._metrics_worker: threading.Thread | None = None
        self._skip_metrics = False
        self._refs: dict = {}                    # (path, max_side) -> reference image
        self.message_port_register_in(pmt.intern("frames"))
        self.message_port_register_out(pmt.intern("images"))
        self.set_msg_handler(pmt.intern("frames"), self.handle_frame)

    @staticmethod
    def _references(reference, max_side):
        if not reference:
            return []
        from semcom.images import list_images
        return [(p, max_side) for p in list_images(reference)]

    def attach(self, log: FrameLog | None = None, reference="", max_side: int = 0) -> None:
        """Share the receiver's log (one set of counters) and set the reference images."""
        if log is not None:
            self.log = log
            self.reasm.log = log
            if self.digital is not None:
                self.digital.log = log
        if reference:
            self.references = self._references(reference, max_side)

    def check_header(self, h: Header) -> None:
        """Raise HeaderError when a header cannot describe an image of this model."""
        c = self.codec
        if h.channels != c.C:
            raise HeaderError(f"header says {h.channels} channels, the model has {c.C}")
        if not (1 <= h.img_h <= MAX_SIDE and 1 <= h.img_w <= MAX_SIDE) or \
                h.img_h * h.img_w > MAX_PIXELS:
            raise HeaderError(f"image {h.img_h}x{h.img_w} outside 1..{MAX_SIDE} per side or "
                              f"above {MAX_PIXELS} pixels")
        if (h.lat_h, h.lat_w) != c.latent_shape(h.img_h, h.img_w):
            raise HeaderError(f"latent {h.lat_h}x{h.lat_w} does not fit image "
                              f"{h.img_h}x{h.img_w}")
        if h.frame_count > h.keep * h.lat_h * h.lat_w:
            raise HeaderError(f"{h.frame_count} frames for {h.keep * h.lat_h * h.lat_w} "
                              "symbols")
        if h.is_side and h.payload_len != c.side_symbols():
            raise HeaderError(f"side frame of {h.payload_len} symbols, the model's has "
                              f"{c.side_symbols()}" if c.side_bits else
                              "side frame for a model without side information")

    def handle_frame(self, msg):
        frame = local_frame(msg)        # from a receiver in this process: no conversion
        if frame is not None:
            self.add_frame(frame)
            return
        try:
            frame = _RxFrame(msg)
        except Exception as exc:  # a malformed PDU is dropped, never crashes the flowgraph
            self.logger.warn(f"dropped malformed frame PDU: {exc}")
            return
        self.add_frame(frame)

    def _track(self, h: Header) -> None:
        """Sequence gaps and image ids per session (called under the lock)."""
        if h.session not in self.sessions and len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))
        st = self.sessions.setdefault(h.session, {"last_seq": None, "ids": set()})
        if st["last_seq"] is not None:
            gap = (h.seq - st["last_seq"] - 1) % 65536
            if 0 < gap < 32768:                  # forward jumps only; reordering is ignored
                self.log.count("frames_missing", gap)
        st["last_seq"] = h.seq
        st["ids"].add(h.image_id)

    def add_frame(self, frame) -> None:
        """Add one decoded frame (a PDU's content or a StreamReceiver Frame)."""
        h = frame.header
        if h.scheme == SCHEME_DIGITAL:      # the digital scheme (issue 16): its own decoder
            from sdr_rx.digital_decoder import DigitalReassembler, check_header
            try:
                check_header(h)
            except ValueError as exc:           # semcom.mcs.MCSError: wrong MCS, size...
                self.log.count("frames_rejected")
                self.log.event("frame_rejected", image_id=h.image_id, reason=str(exc))
                return
            with self.lock:
                if self.digital is None:
                    self.digital = DigitalReassembler(self.timeout_s, self.log)
                self._track(h)
                released = self.digital.add(frame)
            for asm in released:
                self._submit(asm)
            return
        try:
            self.check_header(h)
        except HeaderError as exc:             # before anything is allocated for it
            self.log.count("frames_rejected")
            self.log.event("frame_rejected", image_id=h.image_id, reason=str(exc))
            return
        with self.lock:
            self._track(h)
            released = self.reasm.add(frame)
        for asm in released:
            self._submit(asm)

    def _submit(self, asm) -> None:
        """An assembled image to the decoder thread; a full queue loses it, counted."""
        self._raise_worker_error()
        if self.inline:
            self._decode(asm)
            return
        self._ensure_thread("_worker", self._work, "semcom-jscc-decoder")
        asm.t_released = time.perf_counter()
        try:
            self.queue.put_nowait(asm)
        except queue.Full:
            if not self._backlog_warned:
                self._backlog_warned = True
                self.logger.warn(f"decoder backlog: {self.queue.maxsize} images waiting; "
                                 f"image {asm.image_id} not decoded (later ones are counted "
                                 "in images_lost_decoder_backlog)")
            self._lost(asm, "decoder_backlog", f"{self.queue.maxsize} images waiting")
            return
        self.max_queue_depth = max(self.max_queue_depth, self.queue.qsize())

    def _work(self) -> None:
        """The decoder thread: assembled images from the queue, decoded in order. It runs at a
        lower priority (Linux: a thread's own nice value) so that, when the cores are busy, the
        PHY keeps up with the air and the decoder lags (its queue absorbs it) rather than the
        reverse."""
        _lower_priority(DECODER_NICE)
        while True:
            asm = self.queue.get()
            try:
                if asm is None:
                    return
                asm.queue_ms = round(1e3 * (time.perf_counter() - asm.t_released), 2)
                asm.queue_depth = self.queue.qsize()
                self._decode(asm)
            except BaseException as exc:     # a bug: kept, raised again in the caller
                self._worker_error = exc
            finally:
                self.queue.task_done()

    def _ensure_thread(self, attr: str, target, name: str) -> None:
        """Start the daemon thread kept in ``attr`` unless it runs."""
        t = getattr(self, attr)
        if t is None or not t.is_alive():
            with self.lock:
                t = getattr(self, attr)
                if t is None or not t.is_alive():
                    t = threading.Thread(target=target, daemon=True, name=name)
                    setattr(self, attr, t)
                    t.start()

    def _raise_worker_error(self) -> None:
        if self._worker_error is not None:
            exc, self._worker_error = self._worker_error, None
            raise exc

    def interrupt(self) -> None:
        """Ctrl-C/SIGTERM: the images still queued are not decoded (the stop stays within
        2 s) but published lost, ``cause: "interrupted"``, counted; decoded images still
        waiting for their metrics are published without them."""
        self._skip_metrics = True
        while True:
            try:
                asm = self.queue.get_nowait()
            except queue.Empty:
                return
            try:
                if asm is not None:
                    self._lost(asm, "interrupted", "stopped before its decode")
            finally:
                self.queue.task_done()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued image is decoded (and raise a decoder-thread bug here);
        False when ``timeout`` (s) passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for q in (self.queue, self._metrics_q):     # the decoder feeds the metrics: in order
            with q.all_tasks_done:
                while q.unfinished_tasks:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    q.all_tasks_done.wait(left)
        self._raise_worker_error()
        return True

    def _lost(self, asm, cause: str, detail: str = "") -> None:
        self.log.count("images_lost")
        self.log.count(f"images_lost_{cause}")
        snr = asm.snr_or_tx_db
        rec = {"session": asm.session, "image_id": asm.image_id, "lost": True, "cause": cause,
               "keep": asm.keep,
               "symbols": asm.keep * asm.lat_h * asm.lat_w + self.codec.side_symbols(),
               "frames_received": len(asm.received), "frame_count": asm.frame_count,
               "partial": True, "side_received": asm.side is not None,
               "est_snr_db": round(float(snr), 3), "tx_snr_db": asm.tx_snr_db,
               "height": asm.img_h, "width": asm.img_w, "t_decoded": time.time(),
               **_queue_fields(asm)}
        if detail:
            rec["detail"] = detail[:200]
        self._publish(rec, None)

    def _publish(self, rec: dict, img, ref=None) -> None:
        """One image's record, with its metrics against ``ref`` when given, published
        (:meth:`_publish_now`): at once when nothing waits for metrics and there are none to
        compute, else through the metrics thread, in order (see the module's docstring)."""
        q = self._metrics_q
        if self.inline:
            if ref is not None:
                self._metrics(rec, ref, img)
            self._publish_now(rec, img)
            return
        if ref is None and not q.unfinished_tasks:
            self._publish_now(rec, img)
            return
        if ref is not None and q.qsize() >= METRICS_QUEUE:     # backlog: this one here
            self._metrics(rec, ref, img)
            ref = None
        self._ensure_thread("_metrics_worker", self._metrics_work, "semcom-metrics")
        q.put((rec, img, ref))

    @staticmethod
    def _metrics(rec: dict, ref, img) -> None:
        from models.metrics import score
        rec.update(score(ref, img))

    def _metrics_work(self) -> None:
        """The metrics thread (nice +METRICS_NICE; see the module's docstring)."""
        _lower_priority(METRICS_NICE)
        q = self._metrics_q
        while True:
            item = q.get()
            try:
                if item is None:
                    return
                rec, img, ref = item
                if ref is not None and not self._skip_metrics:
                    self._metrics(rec, ref, img)
                self._publish_now(rec, img)
            except BaseException as exc:     # a bug: kept, raised again in the caller
                self._worker_error = exc
            finally:
                q.task_done()

    def _publish_now(self, rec: dict, img) -> None:
        """One image's record (decoded or lost) to the log, the results, ``on_image`` and the
        ``images`` port. ``snr_est_db`` is the estimate (the one spelling); ``est_snr_db``, its
        older name, stays beside it for readers of summary.json and frames.jsonl."""
        if "est_snr_db" in rec:
            rec.setdefault("snr_est_db", rec["est_snr_db"])
        self.log.event("image", **rec)
        with self.lock:
            self.results.append(rec)
        if self.on_image:
            self.on_image(rec, img)
        self.message_port_pub(pmt.intern("images"), pmt.to_pmt(rec))

    def _decode(self, asm):
        try:
            self._decode_image(asm)
        except PROGRAMMING_ERRORS:
            raise             # a bug stays loud (tests see it), it is not an input problem
        except Exception as exc:  # untrusted input never takes the receiver down
            self.logger.warn(f"image {asm.image_id}: not decoded ({type(exc).__name__}: {exc})")
            self._lost(asm, "decode_error", f"{type(exc).__name__}: {exc}")

    def _decode_digital(self, asm):
        from sdr_rx.digital_decoder import decode_assembly, lost_result, record

        try:
            # stop at the first failed block of codewords: the image is lost either way, and a
            # stop (Ctrl-C) must not wait for 100 failing codewords (1.4 s, not 0.2 s)
            res = decode_assembly(asm, stop_early=True)
        except PROGRAMMING_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001  (gr-fec or the codec on untrusted input)
            self.logger.warn(f"image {asm.image_id}: not decoded ({type(exc).__name__}: {exc})")
            res = lost_result(asm, "decode_error")
        rec = {**record(asm, res), **_queue_fields(asm)}
        if res.lost:
            self.log.count("images_lost")
            self.log.count(f"images_lost_{res.cause}")
            self._publish(rec, None)
            return
        self.log.count("images_partial" if rec["partial"] else "images_complete")
        self._deliver(rec, res.image)

    def _decode_image(self, asm):
        if hasattr(asm, "mcs"):             # a digital image (sdr_rx.digital_decoder)
            return self._decode_digital(asm)
        t0 = time.perf_counter()
        try:
            side = asm.side_info(self.codec.side_bits)
        except sideinfo.SideInfoError as exc:
            self._lost(asm, "no_side" if asm.side is None else "side_crc", str(exc))
            return
        sym, nv = asm.latent()
        snr = asm.snr_or_tx_db
        img = self.codec.decode(sym, (asm.img_h, asm.img_w), snr, asm.keep, nv, side,
                                tx_snr_db=asm.tx_snr_db)
        dt = 1e3 * (time.perf_counter() - t0)
        partial = not asm.complete
        self.log.count("images_partial" if partial else "images_complete")
        rec = {"session": asm.session, "image_id": asm.image_id, "keep": asm.keep,
               "symbols": int(sym.size) + self.codec.side_symbols(),
               "frames_received": len(asm.received), "frame_count": asm.frame_count,
               "partial": partial, "est_snr_db": round(float(snr), 3),
               "tx_snr_db": asm.tx_snr_db, "decode_ms": round(dt, 2), "t_decoded": time.time(),
               "height": asm.img_h, "width": asm.img_w, **_queue_fields(asm)}
        self._deliver(rec, img)

    def _deliver(self, rec: dict, img) -> None:
        """A decoded image: the PNG (first: latency ends on disk), metrics against its
        reference, then published."""
        if self.out_dir:
            from PIL import Image
            path = self.out_dir / f"image_s{rec['session']:03d}_{rec['image_id']:05d}.png"
            tmp = path.with_suffix(".tmp.png")
            Image.fromarray(img).save(tmp, compress_level=1)   # 8 ms, not 21 (level 6)
            tmp.replace(path)
            rec["file"] = str(path)
            rec["t_written"] = time.time()      # the PNG is on disk (latency's end point)
        self._publish(rec, img, self._reference(rec["image_id"], img.shape))

    def _reference(self, image_id, shape):
        idx = image_id - self.first_id
        if not self.references or idx < 0:
            return None
        from semcom.images import load_rgb
        key = self.references[idx % len(self.references)]
        ref = self._refs.get(key)
        if ref is None:
            path, max_side = key
            try:
                ref = load_rgb(path, max_side)
            except Exception as exc:  # a bad reference costs the metrics, never the run
                self.logger.warn(f"reference {path} unreadable ({exc}): no PSNR/SSIM for it")
                return None
            if len(self._refs) >= REFERENCE_CACHE:
                self._refs.clear()
            self._refs[key] = ref
        return ref if ref.shape == shape else None

    def _expiry_loop(self):
        while not self._stop.wait(0.25):
            with self.lock:
                old = self.reasm.expire() + (self.digital.expire() if self.digital else [])
            for asm in old:
                self._submit(asm)

    def start(self):
        self._stop.clear()
        threading.Thread(target=self._expiry_loop, daemon=True).start()
        return gr.basic_block.start(self)

    def flush(self, timeout: float | None = None):
        """Every image still being assembled to the decoder, then wait for the decoder
        (``timeout``: at most that long, then what is still queued is published lost, cause
        ``interrupted``, and only the image being decoded is waited for)."""
        with self.lock:
            rest = self.reasm.flush() + (self.digital.flush() if self.digital else [])
        for asm in rest:
            self._submit(asm)
        if not self.wait_idle(timeout):
            self.interrupt()
            self.wait_idle()
        self._report_missing()

    def _report_missing(self) -> None:
        """An entry for every image id between the first and last seen that never came."""
        with self.lock:
            done = {(r.get("session", 0), r["image_id"]) for r in self.results}
            missing = [(sess, i) for sess, st in self.sessions.items() if st["ids"]
                       for i in range(min(st["ids"]), max(st["ids"]) + 1)
                       if i not in st["ids"] and (sess, i) not in done]
        per: dict[int, int] = {}
        for sess, i in missing:
            self.log.count("images_lost")
            self.log.count("images_lost_not_received")
            per[sess] = per.get(sess, 0) + 1
            self.sessions[sess]["ids"].add(i)          # reported once, even over many flushes
            if per[sess] > MAX_MISSING:
                continue
            rec = {"session": sess, "image_id": i, "lost": True, "cause": "not_received",
                   "keep": 0, "symbols": 0, "frames_received": 0, "frame_count": 0,
                   "partial": True, "est_snr_db": None, "t_decoded": time.time()}
            self.log.event("image", **rec)
            with self.lock:
                self.results.append(rec)

    def stop(self):
        # the flowgraph stops (Ctrl-C too, within 2 s): a backlog gets STOP_WAIT_S, the rest
        # is lost and counted; an app that ends normally waits for its images first
        # (wait_idle or flush before stopping the flowgraph)
        self._stop.set()
        self.flush(STOP_WAIT_S)
        if self._worker is not None and self._worker.is_alive():
            self.queue.put(None)
            self._worker.join(2.0)
        self._worker = None
        if self._metrics_worker is not None and self._metrics_worker.is_alive():
            self._metrics_q.put(None)
            self._metrics_worker.join(2.0)
        self._metrics_worker = None
        while True:             # whatever came after the worker's end: published, no metrics
            try:
                item = self._metrics_q.get_nowait()
            except queue.Empty:
                break
            try:
                if item is not None:
                    self._publish_now(item[0], item[1])
            finally:
                self._metrics_q.task_done()
        return gr.basic_block.stop(self)
