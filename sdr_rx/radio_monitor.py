"""Counts what a radio source delivered, so overflows and dropped samples are shown per run
instead of lost in stderr.

gr-uhd's ``usrp_source`` tags ``rx_time`` on its first sample and again after every overflow
(UHD also prints "O"): each ``rx_time`` after the first is one overflow, and the gap it
announces is counted in samples. gr-iio reports no overflows at all: for a PlutoSDR the drops
are estimated from samples received against the time elapsed since the first sample at the
nominal rate (:meth:`RadioMonitor.summary`).
"""

from __future__ import annotations

import time

import numpy as np
import pmt
from gnuradio import gr


class RadioMonitor:
    """Plain counters: samples, overflows, samples lost in overflow gaps, elapsed time."""

    def __init__(self, samp_rate: float):
        self.samp_rate = float(samp_rate)
        self.samples = 0
        self.overflows = 0
        self.gap_samples = 0
        self.t_first: float | None = None
        self.t_last: float | None = None
        self.rx_time0: float | None = None
        self.extra: dict = {}           # e.g. the device calibration applied (apps.radio_rx)

    def add(self, n: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.t_first is None and n:
            self.t_first = now
        self.samples += n
        self.t_last = now

    def rx_time(self, offset: int, seconds: float) -> None:
        """A ``rx_time`` tag at sample ``offset`` saying the device time is ``seconds``."""
        if self.rx_time0 is None:
            self.rx_time0 = seconds - offset / self.samp_rate
            return
        self.overflows += 1
        expected = (seconds - self.rx_time0) * self.samp_rate
        self.gap_samples = max(self.gap_samples, int(round(expected - offset)))

    def since_last(self) -> dict:
        """Overflows and shortfall since the previous call (one image's worth, say)."""
        now = self.summary()
        prev = getattr(self, "_prev", {"overflows": 0, "shortfall_samples": 0})
        self._prev = now
        return {"overflows": now["overflows"] - prev["overflows"],
                "shortfall_samples": max(0, now["shortfall_samples"]
                                         - prev["shortfall_samples"])}

    def summary(self) -> dict:
        elapsed = (self.t_last - self.t_first) if self.t_first is not None else 0.0
        expected = elapsed * self.samp_rate
        return {"samples": self.samples, "elapsed_s": round(elapsed, 3),
                "overflows": self.overflows, "overflow_gap_samples": self.gap_samples,
                # host-side estimate (the only one gr-iio allows): samples the rate promised
                # and the source did not deliver; one buffer of slack
                "shortfall_samples": max(0, int(expected - self.samples)), **self.extra}


class radio_monitor(gr.sync_block):  # noqa: N801
    """complex64 sink beside the receiver on the radio source's output: feeds a
    :class:`RadioMonitor` (samples, ``rx_time`` tags)."""

    def __init__(self, samp_rate: float = 1e6):
        gr.sync_block.__init__(self, name="semcom_radio_monitor", in_sig=[np.complex64],
                               out_sig=None)
        self.monitor = RadioMonitor(samp_rate)
        self.key = pmt.intern("rx_time")

    def work(self, input_items, output_items):
        n = len(input_items[0])
        start = self.nitems_read(0)
        for t in self.get_tags_in_range(0, start, start + n, self.key):
            v = t.value
            secs = pmt.to_uint64(pmt.tuple_ref(v, 0)) + pmt.to_double(pmt.tuple_ref(v, 1))
            self.monitor.rx_time(t.offset, secs)
        self.monitor.add(n)
        return n
