"""IQ sink, pluggable: ``kind`` is ``zmq`` (PUSH socket that connects to, or with
``connect=False`` binds, ``address``; back-pressure, never drops), ``file`` (cf32:
interleaved little-endian float32 I/Q at ``address`` = path), or ``null``. Input: complex64
stream. ``finish()`` after the run says whether the data left (ZMQ: a receiver took it).
Hardware sinks (UHD, PlutoSDR) slot in here with the same ``kind`` option.
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
        self.kind = kind
        self.connect(self, self.sink)

    def set_peer_timeout(self, seconds: float) -> None:
        """ZMQ: give up when no receiver is connected for this long (0: wait forever)."""
        if self.kind == "zmq":
            self.sink.peer_timeout = float(seconds)

    def abort(self) -> None:
        """Stop waiting on the peer now (before ``tb.stop()`` on Ctrl-C)."""
        if self.kind == "zmq":
            self.sink.abort()

    def drain_time(self, samp_rate: float) -> float:
        """Seconds a peer taking samples at ``samp_rate`` may need for what is still queued."""
        return self.sink.queued_bound() / samp_rate if self.kind == "zmq" else 0.0

    def finish(self, timeout: float = 5.0) -> str:
        """After the flowgraph: flush and close. -> "" when the data left, else why not."""
        if self.kind == "zmq":
            self.sink.finish(timeout)
            return self.sink.error
        if self.kind == "file":
            self.sink.close()
        return ""
