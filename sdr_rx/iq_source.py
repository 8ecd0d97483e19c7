"""IQ source, pluggable: ``kind`` is ``zmq`` (guarded PULL socket, binds ``address`` unless
``connect``) or ``file`` (cf32 at ``address`` = path; ends at the end of the file unless
``repeat``). Output: complex64 stream. Hardware sources slot in with the same ``kind`` option.
"""

from __future__ import annotations

from gnuradio import blocks, gr

from semcom.zmq_source import zmq_iq_source

KINDS = ("zmq", "file")


class iq_source(gr.hier_block2):  # noqa: N801
    def __init__(self, kind: str = "zmq", address: str = "tcp://127.0.0.1:5556",
                 connect: bool = False, repeat: bool = False):
        gr.hier_block2.__init__(self, "semcom_iq_source", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if kind == "zmq":
            self.src = zmq_iq_source(address, connect)
        elif kind == "file":
            self.src = blocks.file_source(gr.sizeof_gr_complex, address, bool(repeat))
        else:
            raise ValueError(f"iq source kind {kind!r}; one of {', '.join(KINDS)}")
        self.connect(self.src, self)
