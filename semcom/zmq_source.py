"""ZMQ IQ source (PULL), guarded: raw cf32 messages in, complex64 stream out.

Binds ``address`` by default (``connect=True`` connects instead) and accepts IQ from whoever
connects. A message whose size is not a whole number of complex64 items is dropped and counted
(gr-zeromq's own source would throw and end the flowgraph). It never ends on its own: stop the
flowgraph. With ``fill=True`` it outputs zeros while nothing arrives (a channel emulator in
real time: the air never stops; put a throttle after it; at most ``FILL_BUFFER`` samples wait
ahead of it). A port in use or a malformed
address is an :class:`semcom.validate.OptionError` naming it.
"""

from __future__ import annotations

import numpy as np
import zmq
from gnuradio import gr

from semcom.validate import endpoint

ITEM = np.dtype(np.complex64).itemsize
FILL_CHUNK = 4096       # zeros per call while nothing arrives (fill mode)
FILL_BUFFER = 8192      # fill mode: at most this many samples queued ahead of the throttle


class zmq_iq_source(gr.sync_block):  # noqa: N801
    def __init__(self, address: str = "tcp://127.0.0.1:5556", connect: bool = False,
                 hwm: int = 64, timeout_ms: int = 100, fill: bool = False):
        gr.sync_block.__init__(self, name="semcom_zmq_iq_source", in_sig=None,
                               out_sig=[np.complex64])
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.PULL)
        self.sock.setsockopt(zmq.RCVHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 0)
        # a port in use or a malformed address: one line naming it (OptionError), no traceback
        endpoint("IQ input", self.sock, address, bind=not connect)
        self.address = address
        self.timeout_ms = int(timeout_ms)
        self.pending = np.zeros(0, np.complex64)
        self.received = 0
        self.bad_messages = 0
        self.fill = bool(fill)
        if self.fill:
            # zeros made ahead of the throttle delay a burst that arrives behind them: keep the
            # queue short (8192 samples: 8 ms at 1 MS/s)
            self.set_max_output_buffer(FILL_BUFFER)

    def work(self, input_items, output_items):
        out = output_items[0]
        timeout = 1 if self.fill else self.timeout_ms
        if not len(self.pending) and self.sock.poll(timeout, zmq.POLLIN):
            chunks = []
            while True:
                try:
                    msg = self.sock.recv(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                buf = msg.buffer
                if len(buf) % ITEM:
                    self.bad_messages += 1
                    self.logger.warn(f"dropped a {len(buf)}-byte message: not whole cf32 items")
                    continue
                chunks.append(np.frombuffer(buf, dtype=np.complex64))
                if sum(len(c) for c in chunks) >= len(out):
                    break
            if chunks:
                self.pending = np.concatenate(chunks)
        n = min(len(out), len(self.pending))
        if not n and self.fill:
            # up to FILL_CHUNK zeros a call after a 1 ms wait: up to 4 MS/s of air (1024 a
            # call capped the stream at about 0.5-0.8 MS/s, below a 1 MS/s real-time rate)
            n = min(len(out), FILL_CHUNK)
            out[:n] = 0
            return n
        if n:
            out[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            self.received += n
        return n

    def stop(self):
        return gr.sync_block.stop(self)
