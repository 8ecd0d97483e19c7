"""OFDM receiver block: complex64 IQ stream in, decoded-frame PDUs out (port ``frames``).

Wraps :class:`sdr_rx.stream_receiver.StreamReceiver` (sync, CFO, timing, channel estimate,
MMSE, header CRC, SNR estimate, all on whole blocks with numpy). Each PDU is
``(meta, c32vector payload symbols)``; meta holds the header fields, ``snr_est_db``,
``cfo_hz``, ``timing`` and ``noise_var`` (f32vector, per payload symbol). Frames whose model id
differs from ``model_id`` (hex string, empty: accept any) are dropped and counted.

``log_path``: the frame log (JSON lines), shared with the decoder and feedback blocks given the
same path (:meth:`sdr_rx.framelog.FrameLog.shared`). ``snr_correction``: the calibrated
SNR-estimate correction, :func:`semcom.snr_correction.from_option` (empty: the shipped file when
present; ``none``: off; else a file, refused by name when missing or malformed).
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import OrderedDict

import numpy as np
import pmt
from gnuradio import gr

from sdr_rx.framelog import FrameLog
from sdr_rx.stream_receiver import StreamReceiver
from semcom.snr_correction import from_option

# Frames published by this process's receivers, by the ``frame_key`` in their PDU's meta: a
# decoder in the same process takes the Frame itself (numpy arrays) instead of converting the
# PDU back (0.6 ms per 2688-symbol frame, more than the frame's whole equalisation). The key
# carries a random per-process token, so a PDU from elsewhere never matches; the oldest are
# forgotten past LOCAL_FRAMES (a PDU nobody takes costs nothing for long).
LOCAL_FRAMES = 256
_TOKEN = secrets.token_hex(8)
_COUNTER = itertools.count()
_LOCAL: OrderedDict = OrderedDict()
_LOCAL_LOCK = threading.Lock()
FRAME_KEY = pmt.intern("frame_key")


def frame_to_pdu(frame):
    """A Frame as the ``frames`` port's PDU; the vectors go through Python lists (4-5x faster
    than pybind11's conversion of a numpy array, same values)."""
    key = f"{_TOKEN}:{next(_COUNTER)}"
    with _LOCAL_LOCK:
        _LOCAL[key] = frame
        while len(_LOCAL) > LOCAL_FRAMES:
            _LOCAL.popitem(last=False)
    meta = pmt.to_pmt({**frame.log_fields(), "frame_key": key})
    meta = pmt.dict_add(meta, pmt.intern("noise_var_sym"),
                        pmt.init_f32vector(frame.noise_var.size, frame.noise_var.tolist()))
    return pmt.cons(meta, pmt.init_c32vector(frame.symbols.size, frame.symbols.tolist()))


def local_frame(msg):
    """The Frame behind a ``frames`` PDU published by a receiver of this process, or None
    (a PDU from elsewhere, or one forgotten)."""
    try:
        v = pmt.dict_ref(pmt.car(msg), FRAME_KEY, pmt.PMT_NIL)
        if not pmt.is_symbol(v):
            return None
        key = pmt.symbol_to_string(v)
    except Exception:        # not a (dict . vector) pair: the caller parses (and rejects) it
        return None
    with _LOCAL_LOCK:
        return _LOCAL.get(key)


class ofdm_receiver(gr.sync_block):  # noqa: N801
    def __init__(self, samp_rate: float = 1e6, model_id: str = "", log_path: str = "",
                 log: FrameLog | None = None, snr_correction: str = ""):
        gr.sync_block.__init__(self, name="semcom_ofdm_receiver", in_sig=[np.complex64],
                               out_sig=None)
        self.log = log or FrameLog.shared(log_path)
        self.log.logger = self.logger
        self.rx = StreamReceiver(samp_rate, int(model_id, 16) if model_id else None, self.log,
                                 snr_correction=from_option(snr_correction))
        self.message_port_register_out(pmt.intern("frames"))
        self.on_frame = None            # optional direct callback(Frame) for in-process users
        # optional (symbols, noise_var) -> (symbols, noise_var) on every frame before it is
        # published: a receiver adaptation fitted on recorded channels (sdr_rx.rx_adapt)
        self.transform = None

    def work(self, input_items, output_items):
        for frame in self.rx.push(input_items[0]):
            if self.transform is not None:
                frame.symbols, frame.noise_var = self.transform(frame.symbols, frame.noise_var)
            if self.on_frame is not None:
                self.on_frame(frame)
            self.message_port_pub(pmt.intern("frames"), frame_to_pdu(frame))
        return len(input_items[0])
