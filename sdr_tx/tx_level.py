"""TX burst level and guard: scale bursts to the RMS convention, count (and clip) overdriven
samples, append ``guard`` zero samples after each burst and tag ``tx_sob``/``tx_eob``.

Input: complex64 tagged stream (``packet_len`` on each burst's first sample, as the cyclic
prefixer emits it). Output: complex64, bursts scaled by ``scale`` (so a burst has RMS
``tx_rms``, :func:`semcom.numerology.scale_for_rms`) each followed by its guard. Samples with
``|out| > 1`` (full scale) are clipped to magnitude 1 and counted in :attr:`clipped`; a sample
that is exactly zero becomes :data:`EPS` (1e-20), so only guards and fill are zeros.
Unlike ``burst_shaper_cc``, the guard after the last burst is emitted as soon as the burst
ends, so a file or a channel emulator always gets complete final frames.
"""

from __future__ import annotations

import time

import numpy as np
import pmt
from gnuradio import gr

from semcom.numerology import DEFAULT_GUARD, LEN_TAG

EPS = np.complex64(1e-20)   # stands in for an exact zero inside a burst


class tx_level(gr.basic_block):  # noqa: N801
    def __init__(self, scale: float = 1.0, guard: int = DEFAULT_GUARD,
                 len_tag_key: str = LEN_TAG):
        gr.basic_block.__init__(self, name="semcom_tx_level", in_sig=[np.complex64],
                                out_sig=[np.complex64])
        self.scale = np.float32(scale)
        self.guard = int(guard)
        self.len_key = pmt.intern(len_tag_key)
        self.set_tag_propagation_policy(gr.TPP_DONT)
        self.remaining = 0       # samples left in the current burst
        self.owed = 0            # guard zeros still to emit
        self.clipped = 0
        self.total = 0
        self.bursts = 0
        # wall clock (time.time()) when each burst's first / last sample left this block for
        # the sink, and the output index of its first sample / one past its last: the TX
        # log's per-image sample times (apps/tx.py: latency, real-time lag per stage)
        self.sob_times: list[float] = []
        self.eob_times: list[float] = []
        self.sob_items: list[int] = []
        self.eob_items: list[int] = []

    def forecast(self, noutput_items, ninputs):
        # guard zeros still owed need no input: the scheduler then calls us even after the
        # input has ended, so the last burst's guard is never cut short
        if self.owed:
            return [0] * ninputs
        # ask for fewer inputs than outputs, so a burst's last samples come with room for
        # its guard
        return [max(1, noutput_items - self.guard)] * ninputs

    def general_work(self, input_items, output_items):
        inp, out = input_items[0], output_items[0]
        if self.owed:
            n = min(self.owed, len(out))
            out[:n] = 0
            self.owed -= n
            self.total += n
            return n
        if not len(inp):
            return 0
        if self.remaining == 0:
            start = self.nitems_read(0)
            tags = self.get_tags_in_range(0, start, start + 1, self.len_key)
            if not tags:
                # not at a burst start: pass samples up to the next burst as they are
                nxt = self.get_tags_in_range(0, start, start + len(inp), self.len_key)
                n = min(len(out), (nxt[0].offset - start) if nxt else len(inp))
                out[:n] = inp[:n] * self.scale
                self.consume(0, n)
                self.total += n
                return n
            self.remaining = pmt.to_long(tags[0].value)
            self.add_item_tag(0, self.nitems_written(0), pmt.intern("tx_sob"), pmt.PMT_T)
            self.bursts += 1
            self.sob_times.append(time.time())
            self.sob_items.append(self.nitems_written(0))
        n = min(len(inp), len(out), self.remaining)
        x = inp[:n] * self.scale
        mag = np.abs(x)
        over = mag > 1.0
        n_over = int(np.count_nonzero(over))
        if n_over:
            x[over] /= mag[over]
            self.clipped += n_over
        # no sample of a burst is exactly zero (the IFFT gives a few: pilots and header bits
        # cancel): a run of zeros inside a burst is then always a source's fill, which the
        # real-time channel removes exactly (a fill next to a real zero took it along and
        # the burst's header no longer read). EPS is -400 dB below full scale.
        x[mag == 0] = EPS
        out[:n] = x
        self.remaining -= n
        produced = n
        if self.remaining == 0:
            self.add_item_tag(0, self.nitems_written(0) + n - 1, pmt.intern("tx_eob"),
                              pmt.PMT_T)
            self.eob_times.append(time.time())
            self.eob_items.append(self.nitems_written(0) + n)
            # emit the guard now where it fits: after the last burst there may be no call
            g = min(self.guard, len(out) - n)
            out[n:n + g] = 0
            produced += g
            self.owed = self.guard - g
        self.consume(0, n)
        self.total += produced
        return produced
