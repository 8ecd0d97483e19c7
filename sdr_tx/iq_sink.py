"""IQ sink, pluggable: ``kind`` is ``zmq`` (PUSH socket that connects to, or with
``connect=False`` binds, ``address``; back-pressure, never drops), ``file`` (cf32:
interleaved little-endian float32 I/Q at ``address`` = path), or ``null``. Input: complex64
stream. Hardware sinks (UHD, PlutoSDR) slot in here with the same ``kind`` option.
"""

from __future__ import annotations

from gnuradio import blocks, gr

from semcom.zmq_sink import zmq_iq_sink

KINDS = ("zmq", "file", "null")


class iq_sink(gr.hier_block2):  # noqa: N801
    def __init__(self, kind: str = "zmq", address: str = "tcp://127.0.0.1:5555",
                 connect: bool = True):
        gr.hier_block2.__init__(self, "semcom_iq_sink",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        if kind == "zmq":
            self.sink = zmq_iq_sink(address, connect)
        elif kind == "file":
            self.sink = blocks.file_sink(gr.sizeof_gr_complex, address, False)
            self.sink.set_unbuffered(False)
        elif kind == "null":
            self.sink = blocks.null_sink(gr.sizeof_gr_complex)
        else:
            raise ValueError(f"iq sink kind {kind!r}; one of {', '.join(KINDS)}")
        self.connect(self, self.sink)
