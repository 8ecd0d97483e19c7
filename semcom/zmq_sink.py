"""ZMQ IQ sink (PUSH): complex64 stream in, raw cf32 bytes out as ZMQ messages.

``connect=True`` (default) connects to ``address`` (the channel emulator's or an RX's bound
input); ``connect=False`` binds. PUSH never drops: when no peer takes the data the flowgraph
waits (back-pressure). Data goes only to a peer that is connected (``ZMQ_IMMEDIATE``): with
nobody there for ``peer_timeout`` seconds (0: wait forever) the sink gives up, says why in
``error`` and ends the flowgraph. A socket monitor counts peers and disconnects.
``finish(timeout)`` (after the flowgraph ends) flushes what is queued and tells whether it
left: a TX never reports success for data nobody took. ``abort()`` and ``stop()`` return
promptly.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import zmq
from gnuradio import gr

from semcom.validate import endpoint


class zmq_iq_sink(gr.sync_block):  # noqa: N801
    def __init__(self, address: str = "tcp://127.0.0.1:5555", connect: bool = True,
                 hwm: int = 64, peer_timeout: float = 0.0):
        gr.sync_block.__init__(self, name="semcom_zmq_iq_sink", in_sig=[np.complex64],
                               out_sig=None)
        self.ctx = zmq.Context()            # private: finish() terminates it to flush
        self.sock = self.ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.IMMEDIATE, 1)     # queue only to a connected peer
        self.monitor = self.sock.get_monitor_socket(
            zmq.EVENT_CONNECTED | zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
        try:
            endpoint("IQ output", self.sock, address, bind=not connect)
        except Exception:
            self.monitor.close(0)
            self.ctx.term()
            raise
        self.address = address
        self.peer_timeout = float(peer_timeout)
        self.hwm = int(hwm)
        self.max_items = 0                  # largest message so far (samples)
        self._stopping = False
        self.sent = 0
        self.peers = 0                      # connected peers now (from the monitor)
        self.connects = 0
        self.disconnects = 0
        self.error = ""                     # why the sink gave up ("" when it did not)
        self._since = None                  # monotonic time the wait for a peer began
        self._lock = threading.Lock()

    def _watch(self) -> None:
        from zmq.utils.monitor import recv_monitor_message

        with self._lock:
            if self.monitor.closed:
                return
            while self.monitor.poll(0):
                ev = recv_monitor_message(self.monitor)["event"]
                if ev in (zmq.EVENT_CONNECTED, zmq.EVENT_ACCEPTED):
                    self.peers += 1
                    self.connects += 1
                elif ev == zmq.EVENT_DISCONNECTED:
                    self.peers = max(0, self.peers - 1)
                    self.disconnects += 1

    def work(self, input_items, output_items):
        data = input_items[0].tobytes()
        while not self._stopping:
            if self.sock.poll(100, zmq.POLLOUT):
                self.sock.send(data, copy=True)
                self.sent += len(input_items[0])
                self.max_items = max(self.max_items, len(input_items[0]))
                self._since = None
                return len(input_items[0])
            self._watch()
            if self.peers or not self.peer_timeout:
                self._since = None          # a slow peer is back-pressure, not an error
                continue
            now = time.monotonic()
            self._since = self._since or now
            if now - self._since > self.peer_timeout:
                self.error = (f"no receiver connected to {self.address} for "
                              f"{self.peer_timeout:g} s" + (
                                  " (it went away)" if self.connects else ""))
                return -1                   # WORK_DONE: the flowgraph ends, the app says why
        return -1

    def abort(self) -> None:
        """Stop waiting for the peer now (Ctrl-C): work() returns within 0.1 s."""
        self._stopping = True

    def queued_bound(self) -> int:
        """At most this many samples can still be queued here (messages up to the high-water
        mark, plus a few MiB of socket buffers): ``finish`` must allow for a peer that takes
        them at its own pace (a real-time channel: the sample rate)."""
        return self.hwm * self.max_items + (4 << 20) // 8

    def finish(self, timeout: float = 5.0) -> bool:
        """After the flowgraph: flush the queue to the peer within ``timeout`` seconds and
        close. True when everything sent left this socket with a peer connected throughout;
        otherwise ``error`` says what happened."""
        if self.sock.closed:
            return not self.error
        self._watch()
        if not self.error and self.sent and not self.peers:
            self.error = f"the receiver at {self.address} went away: data may be lost"
        if not self.error and self.disconnects:
            self.error = (f"the receiver at {self.address} disconnected {self.disconnects} "
                          "time(s) while data was sent: some may be lost")
        with self._lock:
            self.sock.disable_monitor()
            self.monitor.close(0)
        self.sock.setsockopt(zmq.LINGER, int(1000 * timeout))
        self.sock.close()
        t0 = time.monotonic()
        term = threading.Thread(target=self.ctx.term, daemon=True)
        term.start()
        term.join(timeout + 1.0)
        if not self.error and (term.is_alive() or time.monotonic() - t0 >= timeout - 0.05):
            self.error = (f"the receiver at {self.address} took no data for {timeout:g} s: "
                          "the last samples were not delivered")
        return not self.error

    def stop(self):
        self._stopping = True
        return gr.sync_block.stop(self)
