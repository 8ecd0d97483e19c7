"""Rate-control block: the TX's end of the closed loop, inside the flowgraph.

Ports: ``images`` in (image PDUs from the image source) -> ``images`` out (to the encoder);
``sent`` in (the framer's notice that an image's last frame went out); ``credit`` out (to the
image source's ``credit`` port: one more image may go).

- ``feedback`` empty (open loop): images pass unchanged; each ``sent`` notice becomes one
  credit, so the source stays a bounded number of images ahead (its window).
- ``feedback`` set (closed loop): binds a ZMQ PULL socket there for the RX's reports
  (:class:`semcom.report.FeedbackReport`), feeds them to a
  :class:`sdr_tx.rate_controller.RateController` and decides ``keep`` and the SNR told to the
  encoder for each image; the decision rides in the image PDU (:data:`semcom.pdu.DECISION`
  keys), so it always applies to that very image. A finished image's report gives one credit;
  with no report for ``feedback_timeout`` s a watchdog gives one (lost feedback never stalls a
  lock-step TX; the controller falls back to its safe keep).

``policy``: ``target`` (smallest keep expected to reach ``target_psnr``, planning
``margin_db`` below the estimate), ``budget`` (``budget_symbols`` per image) or ``fixed``
(``keep``). ``rate_table``: the model's rate-quality table (empty: the calibrated one,
:func:`semcom.rate_table.table_path`); a model that predicts each image's quality needs none
for ``target``.
"""

from __future__ import annotations

import threading
import time

import pmt
from gnuradio import gr

from sdr_tx import rate_controller as rc
from semcom import pdu


class rate_control(gr.basic_block):  # noqa: N801
    def __init__(self, model: str = "default", feedback: str = "",
                 policy: str = rc.DEFAULT_POLICY, keep: int = 0, snr_db: float = 10.0,
                 target_psnr: float = rc.DEFAULT_TARGET_PSNR,
                 margin_db: float = rc.DEFAULT_MARGIN_DB, budget_symbols: int = 0,
                 rate_table: str = "", safe_keep: int = 0,
                 feedback_timeout: float = rc.DEFAULT_FEEDBACK_TIMEOUT_S, verbose: bool = True,
                 scheme: str = "jscc", mcs: str = "auto"):
        gr.basic_block.__init__(self, name="semcom_rate_control", in_sig=None, out_sig=None)
        for p in ("images", "sent"):
            self.message_port_register_in(pmt.intern(p))
        for p in ("images", "credit"):
            self.message_port_register_out(pmt.intern(p))
        self.set_msg_handler(pmt.intern("images"), self.handle_image)
        self.set_msg_handler(pmt.intern("sent"), self.handle_sent)
        self.address = feedback
        self.snr_db = float(snr_db)
        self.feedback_timeout = float(feedback_timeout)
        self.verbose = bool(verbose)
        self.decisions: list[dict] = []
        self.credits = 0
        self.fb = None
        self._stop = threading.Event()
        self._progress = time.monotonic()
        self._print_lock = threading.Lock()
        if feedback:
            self._closed_loop(model, feedback, policy, keep, target_psnr, margin_db,
                              budget_symbols, rate_table, safe_keep)
        self.set_scheme(scheme, mcs or "auto")

    def _closed_loop(self, model, address, policy, keep, target_psnr, margin_db,
                     budget_symbols, rate_table, safe_keep) -> None:
        from models.codec import JSCCCodec
        from sdr_tx.feedback import FeedbackReceiver
        from sdr_tx.rate_controller import RateController
        from semcom.rate_table import RateTable, table_path

        self.codec = codec = JSCCCodec.load(model)
        C = codec.C
        # a model that predicts each image's quality needs no table for --policy target
        self.per_image = policy == "target" and codec.can_predict and not rate_table
        table = RateTable.load(rate_table or table_path(codec.model_hash), codec.model_hash) \
            if policy != "fixed" and not self.per_image else None
        self.controller = RateController(
            C, policy, table, target_psnr=target_psnr, budget_symbols=budget_symbols,
            fixed_keep=keep or C, safe_keep=safe_keep or C, timeout_s=self.feedback_timeout,
            per_image=self.per_image, margin_db=margin_db)
        self.fb = FeedbackReceiver(address, self.controller, on_image_done=self._image_done)

    def set_scheme(self, scheme: str, mcs: str = "auto") -> None:
        """The digital scheme (issue 16) with ``mcs`` ``auto``: the closed loop picks each
        image's MCS (:class:`sdr_tx.mcs_controller.McsController`) from the same reports, and
        the choice rides in the image PDU (``mcs``) as ``keep`` does for JSCC; each image
        report's outcome (``lost``) moves the controller's outer-loop offset."""
        self.scheme, self.mcs = scheme, mcs
        self.mcs_ctl = None
        if scheme == "digital" and mcs == "auto" and self.fb is not None:
            from sdr_tx.mcs_controller import McsController
            self.mcs_ctl = McsController(timeout_s=self.feedback_timeout)
            with self.fb.lock:
                self.fb.controller = self.mcs_ctl

    # -- ports ---------------------------------------------------------------------------------
    def handle_image(self, msg):
        meta = pmt.car(msg)
        if self.fb is None or pmt.to_python(pmt.dict_ref(meta, pmt.intern(pdu.EOS),
                                                         pmt.PMT_F)):
            self.message_port_pub(pmt.intern("images"), msg)
            return
        if getattr(self, "mcs_ctl", None) is not None:
            with self.fb.lock:
                d = self.mcs_ctl.decide(time.monotonic())
            self.decisions.append(d.to_dict())
            if self.verbose:
                with self._print_lock:
                    print(f"tx: MCS {d.mcs}  SNR acted on "
                          f"{'-' if d.snr_used_db is None else f'{d.snr_used_db:.2f}'}  "
                          f"OLLA offset {d.olla_offset_db:+.2f} dB  ({d.reason})", flush=True)
            snr = d.snr_used_db if d.snr_used_db is not None else self.snr_db
            for k, v in (("mcs", pmt.intern(d.mcs)), (pdu.SNR_DB, pmt.from_double(snr)),
                         (pdu.DECISION_INFO, pmt.to_pmt(d.to_dict()))):
                meta = pmt.dict_add(meta, pmt.intern(k), v)
            self.message_port_pub(pmt.intern("images"), pmt.cons(meta, pmt.cdr(msg)))
            return
        h = pmt.to_long(pmt.dict_ref(meta, pmt.intern("height"), pmt.from_long(0)))
        w = pmt.to_long(pmt.dict_ref(meta, pmt.intern("width"), pmt.from_long(0)))
        image = None
        if self.per_image:
            from sdr_tx.image_source import u8vector_array
            image = u8vector_array(pmt.cdr(msg)).reshape(h, w, 3)
        d = self.decide((h, w), image)
        snr = d.snr_used_db if d.snr_used_db is not None else self.snr_db
        for k, v in ((pdu.KEEP, pmt.from_long(d.keep)), (pdu.SNR_DB, pmt.from_double(snr)),
                     (pdu.DECISION_INFO, pmt.to_pmt(d.to_dict()))):
            meta = pmt.dict_add(meta, pmt.intern(k), v)
        self.message_port_pub(pmt.intern("images"), pmt.cons(meta, pmt.cdr(msg)))

    def handle_sent(self, msg):
        if self.fb is None:                  # open loop: an image out, one more may come
            self._credit()

    # -- the loop ------------------------------------------------------------------------------
    def decide(self, size, image=None):
        from sdr_tx.rate_controller import ImageTable

        img_table = ImageTable(self.codec, image) if image is not None else None
        with self.fb.lock:
            d = self.controller.decide(time.monotonic(),
                                       self.codec.model.symbols_per_channel(*size), img_table)
        self.decisions.append(d.to_dict())
        if self.verbose:
            with self._print_lock:
                print(f"tx: keep {d.keep:3d}  policy {d.policy}  SNR acted on "
                      f"{'-' if d.snr_used_db is None else f'{d.snr_used_db:.2f}'}  expected "
                      f"PSNR "
                      f"{'-' if d.expected_psnr_db is None else f'{d.expected_psnr_db:.2f}'}  "
                      f"({d.reason})", flush=True)
        return d

    def _image_done(self, report) -> None:
        self._progress = time.monotonic()
        if getattr(self, "mcs_ctl", None) is not None:     # --mcs auto: the outer loop
            with self.fb.lock:
                self.mcs_ctl.on_outcome(report.image_id, report.lost, report.session)
        self._credit()

    def _credit(self) -> None:
        self.credits += 1
        self.message_port_pub(pmt.intern("credit"), pmt.from_long(1))

    def _watchdog(self) -> None:
        # lost feedback must not stall a lock-step TX: release the window when silent
        while not self._stop.wait(0.25):
            now = time.monotonic()
            if now - max(self._progress, self.fb.last_t or 0.0) > self.feedback_timeout:
                if self.verbose:
                    print(f"tx: no feedback for {self.feedback_timeout:g} s: sending the next "
                          "image with the safe keep", flush=True)
                self._progress = now
                self._credit()

    # -- runtime settings (GRC callbacks) ------------------------------------------------------
    def set_snr_db(self, snr_db: float) -> None:
        """The SNR told to the encoder while no report has come."""
        self.snr_db = float(snr_db)

    def set_target_psnr(self, target: float) -> None:
        if self.fb is not None:
            with self.fb.lock:
                self.controller.target = float(target)

    def start(self):
        self._stop.clear()
        if self.fb is not None:
            self._progress = time.monotonic()
            self.fb.start()
            threading.Thread(target=self._watchdog, daemon=True, name="rate_watchdog").start()
        return gr.basic_block.start(self)

    def stop(self):
        self._stop.set()
        if self.fb is not None:
            self.fb.stop()
        return gr.basic_block.stop(self)
