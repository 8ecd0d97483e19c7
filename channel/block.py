"""Channel emulator block: complex64 IQ in, impaired complex64 IQ out (rate may differ with a
sample-rate offset; a burst is held back until its header is complete).

Wraps :class:`channel.core.ChannelCore`. Strips every tag. Runtime control: a ZMQ
REP socket on ``control`` (JSON requests ``{"get": true}`` or ``{"set": {...}}``; changes apply
at the next burst start and the reply says which burst; a value out of its range in
``channel.impairments.LIMITS``, NaN or Inf is refused with ``ok: false`` and the range, and
nothing is applied; a control address that cannot be bound is an ``OptionError`` when the
block is made).
The true SNR of each frame is written to ``truth_path`` (JSON lines) and published on a PUB
socket at ``truth_pub`` when set; both are for reports and calibration only, never for the
RX's processing.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import zmq
from gnuradio import gr

from channel.core import ChannelCore
from channel.impairments import Settings
from channel.schedules import make_schedule
from semcom import numerology as nm
from semcom.ofdm import DEFAULT_SAMP_RATE
from semcom.validate import OptionError

MAX_CONTROL_BYTES = 65536


class channel_emulator(gr.basic_block):  # noqa: N801
    def __init__(self, settings_json: str = "{}", seed: int = 0,
                 samp_rate: float = DEFAULT_SAMP_RATE, tx_rms: float = nm.DEFAULT_TX_RMS,
                 schedule: str = "", control: str = "", truth_path: str = "", truth_pub: str = ""):
        gr.basic_block.__init__(self, name="semcom_channel_emulator", in_sig=[np.complex64],
                                out_sig=[np.complex64])
        self.set_tag_propagation_policy(gr.TPP_DONT)
        settings = Settings()
        settings.update(json.loads(settings_json or "{}"), samp_rate)
        sched = None
        if schedule:
            kind, _, spec = schedule.partition(":")
            sched = make_schedule(kind, spec, seed)
        if truth_path:
            Path(truth_path).parent.mkdir(parents=True, exist_ok=True)
        self.truth_fh = open(truth_path, "a", buffering=1) if truth_path else None
        self.ctx = zmq.Context.instance()
        self.pub = None
        if truth_pub:
            self.pub = self.ctx.socket(zmq.PUB)
            self.pub.bind(truth_pub)
        self.core = ChannelCore(settings, seed, samp_rate, tx_rms, sched, self._on_burst)
        self.out_buf = np.zeros(0, np.complex64)
        self.control_addr = control
        self._stop = threading.Event()
        self._thread = None
        self._ctl = None
        if control:
            # bound here, not in the serving thread: a control port that is taken is an error
            # at start, not a channel that silently runs without control
            self._ctl = self._bind_control()
        self.set_output_multiple(1)

    def _on_burst(self, rec):
        # t: wall clock when the burst's start passed the emulator (real-time lag per stage)
        line = json.dumps({**{k: v for k, v in asdict(rec).items() if k != "extra"},
                           "t": round(time.time(), 6)})
        if self.truth_fh:
            self.truth_fh.write(line + "\n")
        if self.pub is not None:
            self.pub.send_string(line)

    def _bind_control(self):
        sock = self.ctx.socket(zmq.REP)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_CONTROL_BYTES)   # a larger request is dropped
        try:
            sock.bind(self.control_addr)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise OptionError(f"--control {self.control_addr}: cannot bind: {exc} (another "
                              f"process has this port?)") from None
        return sock

    def _reply(self, raw: bytes) -> dict:
        """One control request -> its reply. Anything malformed or out of range is refused
        with ``ok: false`` and a one-line error; nothing is applied then."""
        try:
            req = json.loads(raw)
        except (ValueError, RecursionError):
            return {"ok": False, "error": 'not JSON: send {"get": true} or {"set": {...}}'}
        if not isinstance(req, dict):
            return {"ok": False, "error": 'a request is a JSON object: {"get": true} or '
                                          '{"set": {"name": value, ...}}'}
        try:
            if "set" in req:
                return {"ok": True, "applies_at_burst": self.core.request(req["set"])}
            return {"ok": True, "state": self.core.snapshot()}
        except KeyError as exc:
            return {"ok": False, "error": exc.args[0] if exc.args else str(exc)}
        except Exception as exc:  # a bad request gets an error reply, never a crash
            return {"ok": False, "error": str(exc)}

    def _serve(self):
        sock = self._ctl
        while not self._stop.is_set():
            if not sock.poll(100):
                continue
            reply = self._reply(sock.recv())
            try:
                text = json.dumps(reply, allow_nan=False)
            except ValueError as exc:           # never leave the REQ peer without a reply
                text = json.dumps({"ok": False, "error": f"reply not encodable: {exc}"})
            sock.send_string(text)
        sock.close(0)
        self._ctl = None

    def start(self):
        if self.control_addr:
            if self._ctl is None:               # started again after a stop
                self._ctl = self._bind_control()
            self._stop.clear()
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()
        return gr.basic_block.start(self)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.truth_fh:
            self.truth_fh.flush()
        return gr.basic_block.stop(self)

    def forecast(self, noutput_items, ninputs):
        # with output still queued, run without new input so the tail is never stranded
        return [0 if len(self.out_buf) else 1] * ninputs

    def general_work(self, input_items, output_items):
        inp, out = input_items[0], output_items[0]
        if len(inp):
            y = self.core.process(inp.copy())
            self.consume(0, len(inp))
            if len(y):
                self.out_buf = np.concatenate([self.out_buf, y]) if len(self.out_buf) else y
        n = min(len(out), len(self.out_buf))
        out[:n] = self.out_buf[:n]
        self.out_buf = self.out_buf[n:]
        return n
