"""JSCC encoder block: image PDUs in, latent-symbol PDUs out.

Input port ``images``: PDUs from :mod:`sdr_tx.image_source` (or through
:mod:`sdr_tx.rate_control`, whose per-image ``keep``, ``snr_db`` and ``decision`` in the PDU's
meta apply to that image and stay for the following ones). Input port ``control``: a dict with
``keep`` and/or ``snr_db`` changes the settings for the following images (so do
``set_keep``/``set_snr_db``, GRC's runtime callbacks).
Output port ``symbols``: PDU ``(meta, c32vector)``, the vector the ``keep`` sent latent
channels (keep * lat_h * lat_w, channel-major, unit mean power) and meta ``{name, image_id,
height, width, keep, lat_h, lat_w, tx_snr_db, model_hash, channels}`` plus ``side`` (u8vector
of side-information bits) for models that have it. The end-of-stream PDU
passes through. torch runs with ``threads`` threads.
"""

from __future__ import annotations

import time

import pmt
from gnuradio import gr

from sdr_tx.image_source import u8vector, u8vector_array
from semcom import pdu


def meta_get(meta, key, default=None):
    v = pmt.dict_ref(meta, pmt.intern(key), pmt.PMT_NIL)
    return default if pmt.is_null(v) else pmt.to_python(v)


class jscc_encoder(gr.basic_block):  # noqa: N801
    def __init__(self, model: str = "default", snr_db: float = 10.0, keep: int = 0,
                 threads: int = 1, scheme: str = "jscc", mcs: str = "auto"):
        gr.basic_block.__init__(self, name="semcom_jscc_encoder", in_sig=None, out_sig=None)
        from models.codec import JSCCCodec

        self.codec = JSCCCodec.load(model, threads=threads)
        self.snr_db = float(snr_db)
        self.keep = int(keep) if keep else self.codec.C
        self.check_keep(self.keep)
        # scheme "digital" (issue 16): each image goes out as WebP + LDPC + QAM in the default
        # JSCC's full-keep air time (sdr_tx.digital_encoder); ``mcs`` a name of semcom.mcs or
        # "auto" (the rate control's per-image choice in the PDU meta, else the most robust)
        self.set_scheme(scheme, mcs)
        for p in ("images", "control"):
            self.message_port_register_in(pmt.intern(p))
        self.message_port_register_out(pmt.intern("symbols"))
        self.set_msg_handler(pmt.intern("images"), self.handle_image)
        self.set_msg_handler(pmt.intern("control"), self.handle_control)
        self.bad_control = 0
        self.encode_ms: list[float] = []
        self.sent: list[dict] = []      # one record per encoded image (for run logs)
        # optional: called after each image with (record, latent (keep, lat_h, lat_w), side
        # bits or None, (h, w)): a TX record of what was sent
        self.on_encoded = None

    @property
    def model_hash(self) -> str:
        return self.codec.model_hash

    def check_keep(self, keep: int) -> None:
        if not 1 <= keep <= self.codec.C:
            raise ValueError(f"keep {keep} outside 1..{self.codec.C}")

    def set_keep(self, keep: int) -> None:
        keep = int(keep) if keep else self.codec.C
        self.check_keep(keep)
        self.keep = keep

    def set_snr_db(self, snr_db: float) -> None:
        self.snr_db = float(snr_db)

    def handle_control(self, msg):
        d = pmt.to_python(msg) if pmt.is_dict(msg) else {}
        try:
            if pdu.KEEP in d:
                self.set_keep(int(d[pdu.KEEP]))
            if pdu.SNR_DB in d:
                self.set_snr_db(float(d[pdu.SNR_DB]))
        except (TypeError, ValueError) as exc:      # a bad control message: dropped, said
            self.bad_control += 1
            self.logger.warn(f"control message dropped: {exc}")

    def set_scheme(self, scheme: str, mcs: str = "auto") -> None:
        """``jscc`` or ``digital`` (with ``mcs``: a :mod:`semcom.mcs` name or ``auto``)."""
        from semcom import mcs as mcs_table
        if scheme not in ("jscc", "digital"):
            raise ValueError(f"unknown scheme {scheme!r}; one of jscc, digital")
        mcs = mcs or "auto"
        if mcs != "auto":
            mcs_table.by_name(mcs)
        self.scheme, self.mcs = scheme, mcs

    def _digital(self, meta, arr, info) -> None:
        from sdr_tx import digital_encoder as de
        from semcom import mcs as mcs_table

        name = meta_get(meta, "mcs") or (self.mcs if self.mcs != "auto" else
                                          mcs_table.TABLE[0].name)
        h, w = arr.shape[:2]
        t_start = time.time()
        t0 = time.perf_counter()
        p = de.encode_payload(arr, name, de.jscc_budget(self.codec, h, w))
        self.encode_ms.append(1e3 * (time.perf_counter() - t0))
        self.sent.append({"image_id": meta_get(meta, "image_id"), "name": meta_get(meta, "name"),
                          "scheme": "digital", "mcs": p.mcs.name, "keep": p.mcs.index + 1,
                          "symbols": int(sum(len(x) for x in p.payloads)), "side_symbols": 0,
                          "codewords": p.n_codewords, "file_bytes": p.file_bytes,
                          "quality": p.quality, "tx_snr_db": self.snr_db,
                          "t_encode_start": t_start, "encode_ms": self.encode_ms[-1], **info})
        self.message_port_pub(pmt.intern("symbols"), de.to_pdu(meta, p, self.snr_db))

    def handle_image(self, msg):
        meta = pmt.car(msg)
        if meta_get(meta, "eos", False):
            self.message_port_pub(pmt.intern("symbols"), msg)
            return
        h, w = meta_get(meta, "height"), meta_get(meta, "width")
        arr = u8vector_array(pmt.cdr(msg)).reshape(h, w, 3)
        info = {}
        keep, snr = meta_get(meta, pdu.KEEP), meta_get(meta, pdu.SNR_DB)
        if keep is not None:                   # the rate control's decision for this image
            self.set_keep(int(keep))
        if snr is not None:
            self.set_snr_db(float(snr))
        decision = meta_get(meta, pdu.DECISION_INFO)
        if decision is not None:
            info = {pdu.DECISION_INFO: decision}
        if self.scheme == "digital":
            self._digital(meta, arr, info)
            return
        t_start = time.time()
        t0 = time.perf_counter()
        z, side = self.codec.encode_side(arr, self.snr_db, self.keep)
        self.encode_ms.append(1e3 * (time.perf_counter() - t0))
        n_sym = self.codec.symbols_for(self.keep, h, w)
        self.sent.append({"image_id": meta_get(meta, "image_id"), "name": meta_get(meta, "name"),
                          "keep": self.keep, "symbols": n_sym,
                          "side_symbols": self.codec.side_symbols(),
                          "tx_snr_db": self.codec.encoder_snr(self.snr_db),
                          "t_encode_start": t_start, "encode_ms": self.encode_ms[-1],
                          **info})
        out = meta
        for k, v in (("keep", pmt.from_long(self.keep)),
                     ("lat_h", pmt.from_long(z.shape[1])), ("lat_w", pmt.from_long(z.shape[2])),
                     ("tx_snr_db", pmt.from_double(self.codec.encoder_snr(self.snr_db))),
                     ("channels", pmt.from_long(self.codec.C)),
                     ("model_hash", pmt.intern(self.model_hash)),
                     ("t_encode", pmt.from_double(time.time()))):
            out = pmt.dict_add(out, pmt.intern(k), v)
        if side is not None:
            out = pmt.dict_add(out, pmt.intern("side"), u8vector(side))
        flat = z.reshape(-1)
        if self.on_encoded is not None:
            self.on_encoded(self.sent[-1], z, side, (h, w))
        self.message_port_pub(pmt.intern("symbols"),
                              pmt.cons(out, pmt.init_c32vector(flat.size, flat.tolist())))
