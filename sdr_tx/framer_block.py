"""Framer block: latent-symbol PDUs in, a tagged stream of frames out (for the modulator).

Input port ``symbols``: PDUs from :mod:`sdr_tx.jscc_encoder`; the model's hash and channel
count come in each PDU's meta (``model_hash``, ``channels``: :data:`semcom.pdu.LATENT`) and go
into every header. Output: complex64 stream; each frame (header symbols + interleaved payload,
see :class:`sdr_tx.framer.Framer`) starts with a ``packet_len`` tag holding its length.
Output port ``sent``: a dict ``{image_id, frames}`` when an image's last frame starts (the
rate control turns it into credit for the image source). ``session`` (0: drawn at random) is
the run id in every header. After the end-of-stream PDU and the last frame the block reports
WORK_DONE, so file-based runs end.
"""

from __future__ import annotations

import collections
import threading

import numpy as np
import pmt
from gnuradio import gr

from sdr_tx.framer import Framer
from sdr_tx.image_source import u8vector_array
from sdr_tx.jscc_encoder import meta_get
from semcom.header import model_id_from_hash
from semcom.numerology import DEFAULT_FRAME_SYMBOLS, LEN_TAG


class jscc_framer(gr.sync_block):  # noqa: N801
    def __init__(self, frame_symbols: int = DEFAULT_FRAME_SYMBOLS, len_tag_key: str = LEN_TAG,
                 session: int = 0):
        gr.sync_block.__init__(self, name="semcom_jscc_framer", in_sig=None,
                               out_sig=[np.complex64])
        # the model's id and channel count are set from each PDU (the encoder's model)
        self.framer = Framer("00000000", 1, frame_symbols, session)
        self.len_key = pmt.intern(len_tag_key)
        self.queue: collections.deque = collections.deque()
        self.cv = threading.Condition()
        self.eos = False
        self.current = None     # (vector, position)
        self.frames_sent = 0
        self.images_sent = 0
        self.frames_per_image: dict[int, int] = {}
        self.message_port_register_in(pmt.intern("symbols"))
        self.message_port_register_out(pmt.intern("sent"))
        self.set_msg_handler(pmt.intern("symbols"), self.handle_symbols)
        self.set_output_multiple(1)

    def handle_symbols(self, msg):
        meta = pmt.car(msg)
        if meta_get(meta, "eos", False):
            with self.cv:
                self.eos = True
                self.cv.notify_all()
            return
        from sdr_tx import digital_encoder as de
        if de.is_digital(meta):                  # a digital image (issue 16)
            frames = self.framer.digital_frames(
                de.from_pdu(msg), meta_get(meta, "image_id"),
                (meta_get(meta, "height"), meta_get(meta, "width")), meta_get(meta, "tx_snr_db"))
            self._queue(frames)
            return
        keep, lh, lw = (meta_get(meta, k) for k in ("keep", "lat_h", "lat_w"))
        self.framer.model_id = model_id_from_hash(meta_get(meta, "model_hash"))
        self.framer.channels = int(meta_get(meta, "channels"))
        z = np.asarray(pmt.c32vector_elements(pmt.cdr(msg)), dtype=np.complex64)
        side = pmt.dict_ref(meta, pmt.intern("side"), pmt.PMT_NIL)
        side = None if pmt.is_null(side) else u8vector_array(side)
        frames = self.framer.frames(z.reshape(keep, lh, lw), meta_get(meta, "image_id"),
                                    (meta_get(meta, "height"), meta_get(meta, "width")),
                                    meta_get(meta, "tx_snr_db"), side)
        self._queue(frames)

    def _queue(self, frames) -> None:
        with self.cv:
            self.queue.extend(frames)
            self.images_sent += 1
            if frames:
                self.frames_per_image[frames[0][0].image_id] = len(frames)
            self.cv.notify_all()

    def work(self, input_items, output_items):
        out = output_items[0]
        n = 0
        while n < len(out):
            if self.current is None:
                with self.cv:
                    if not self.queue:
                        if self.eos:
                            return n if n else -1     # WORK_DONE once drained
                        if n:
                            return n
                        self.cv.wait(0.05)
                        if not self.queue:
                            return 0
                    header, vec = self.queue.popleft()
                self.current = [vec, 0]
                off = self.nitems_written(0) + n
                self.add_item_tag(0, off, self.len_key, pmt.from_long(len(vec)))
                self.frames_sent += 1
                if header.frame_idx == header.frame_count - 1:
                    self.message_port_pub(pmt.intern("sent"), pmt.to_pmt(
                        {"image_id": header.image_id, "frames": header.frame_count}))
            vec, pos = self.current
            take = min(len(out) - n, len(vec) - pos)
            out[n:n + take] = vec[pos:pos + take]
            n += take
            pos += take
            self.current = None if pos == len(vec) else [vec, pos]
        return n
