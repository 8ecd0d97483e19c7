"""ZMQ IQ sink (PUSH): complex64 stream in, raw cf32 bytes out as ZMQ messages.

``connect=True`` (default) connects to ``address`` (the channel emulator's or an RX's bound
input); ``connect=False`` binds. PUSH never drops: when no peer takes the data the flowgraph
waits (back-pressure); ``stop()`` always returns promptly.
"""

from __future__ import annotations

import numpy as np
import zmq
from gnuradio import gr


class zmq_iq_sink(gr.sync_block):  # noqa: N801
    def __init__(self, address: str = "tcp://127.0.0.1:5555", connect: bool = True,
                 hwm: int = 64):
        gr.sync_block.__init__(self, name="semcom_zmq_iq_sink", in_sig=[np.complex64],
                               out_sig=None)
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 1000)
        (self.sock.connect if connect else self.sock.bind)(address)
        self.address = address
        self._stopping = False
        self.sent = 0

    def work(self, input_items, output_items):
        data = input_items[0].tobytes()
        while not self._stopping:
            if self.sock.poll(100, zmq.POLLOUT):
                self.sock.send(data, copy=True)
                self.sent += len(input_items[0])
                return len(input_items[0])
        return len(input_items[0])

    def stop(self):
        self._stopping = True
        return gr.sync_block.stop(self)
