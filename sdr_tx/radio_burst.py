"""Bursts as a PlutoSDR really takes them: every burst and its guard padded to whole buffers.

gr-iio has no burst mode (GNU Radio 3.10.5, gr-iio 0.24). Without a length tag its sink sends
``buffer_size`` samples at a time and drops a partial last buffer; with a length tag it wants
every packet to be exactly ``buffer_size`` samples, and otherwise sends nothing, with no
exception in Python. So the Pluto TX appends zeros after each burst so that the burst ends
exactly on a buffer boundary: a burst's tail always leaves in a complete buffer, whatever
follows. The burst's guard zeros (from :mod:`sdr_tx.tx_level`) then lead the next buffer, so
between two bursts there are at least ``guard`` zeros (guard + padding: a burst and its guard
take whole buffers); only zeros after the very last burst can be left in a partial buffer that
gr-iio drops (tx_level may also cut that last guard short when its output buffer is nearly full).

:class:`BufferPadder` is the plain, vectorised rule; :class:`pluto_burst_pad` the thin GNU Radio
block after :class:`sdr_tx.tx_level.tx_level` (which tags ``tx_sob``/``tx_eob`` and appends the
``guard`` zeros): it inserts the padding right after each ``tx_eob`` and moves the burst tags with
the samples. Nothing is dropped and nothing is scaled.
"""

from __future__ import annotations

import time

import numpy as np
import pmt
from gnuradio import gr

from semcom import numerology as nm

PLUTO_BUFFER = 8192     # samples per libiio buffer (8.2 ms at 1 MS/s; GRC's default is 32768)


class BufferPadder:
    """Zeros to insert after each burst end so that it ends on a buffer boundary (``guard``, the
    zeros that follow each burst anyway, is kept for the record: it does not change the rule).

    ``plan(n, eob_idx)``: ``n`` input samples of which ``eob_idx`` (sorted, within ``[0, n)``)
    are burst ends; -> the number of zeros to insert after each. The output position is carried
    across calls, so a stream cut anywhere gives the same padding."""

    def __init__(self, buffer_size: int = PLUTO_BUFFER, guard: int = nm.DEFAULT_GUARD):
        if buffer_size < 1 or guard < 0:
            raise ValueError("buffer_size >= 1 and guard >= 0")
        self.B = int(buffer_size)
        self.guard = int(guard)
        self.pos = 0            # output samples so far, modulo B
        self.padded = 0         # zeros inserted so far
        self.bursts = 0

    def counts(self, eob_idx) -> np.ndarray:
        """The zeros after each burst end ``eob_idx`` (input indices from the current position),
        without moving on."""
        e = np.asarray(eob_idx, dtype=np.int64)
        c = np.empty(e.size, np.int64)
        if e.size:
            # output position right after eob k, then the zeros that bring it to a multiple
            # of B; after that only the distance between burst ends matters
            c[0] = (-(self.pos + e[0] + 1)) % self.B
            c[1:] = (-np.diff(e)) % self.B
        return c

    def advance(self, n: int, eob_idx, counts) -> None:
        """Move on by ``n`` input samples whose burst ends ``eob_idx`` got ``counts`` zeros."""
        e = np.asarray(eob_idx, dtype=np.int64)
        if e.size:
            self.pos = (n - 1 - int(e[-1])) % self.B
            self.padded += int(np.sum(counts))
            self.bursts += e.size
        else:
            self.pos = (self.pos + n) % self.B

    def plan(self, n: int, eob_idx) -> np.ndarray:
        c = self.counts(eob_idx)
        self.advance(n, eob_idx, c)
        return c

    def pad(self, x: np.ndarray, eob_idx) -> np.ndarray:
        """``x`` with the zeros inserted (see :meth:`plan`)."""
        counts = self.plan(len(x), eob_idx)
        if not counts.size or not counts.any():
            return np.asarray(x)
        at = np.repeat(np.asarray(eob_idx, np.int64) + 1, counts)
        return np.insert(x, at, np.zeros(1, dtype=np.asarray(x).dtype))


class pluto_burst_pad(gr.basic_block):  # noqa: N801
    """complex64 in (``tx_sob``/``tx_eob`` tagged bursts each followed by ``guard`` zeros) ->
    the same with zeros after each ``tx_eob`` so that each burst ends on a ``buffer_size``
    boundary. Tags keep their samples."""

    def __init__(self, buffer_size: int = PLUTO_BUFFER, guard: int = nm.DEFAULT_GUARD):
        gr.basic_block.__init__(self, name="semcom_pluto_burst_pad", in_sig=[np.complex64],
                                out_sig=[np.complex64])
        self.padder = BufferPadder(buffer_size, guard)
        self.set_tag_propagation_policy(gr.TPP_DONT)
        self.eob = pmt.intern("tx_eob")
        # a burst end and its padding leave in one call: room for a whole buffer and more
        self.set_min_output_buffer(2 * int(buffer_size) + 8192)

    @property
    def padded(self) -> int:
        return self.padder.padded

    def forecast(self, noutput_items, ninputs):
        # one input sample may become a whole buffer of output: never let the scheduler
        # shrink the output window to the input in hand
        return [1] * ninputs

    def general_work(self, input_items, output_items):
        inp, out = input_items[0], output_items[0]
        n, m = len(inp), len(out)
        if not n:
            return 0
        start = self.nitems_read(0)
        tags = self.get_tags_in_range(0, start, start + n)
        eobs = np.array(sorted({t.offset - start for t in tags if pmt.eq(t.key, self.eob)}),
                        np.int64)
        counts = self.padder.counts(eobs)
        # the longest input prefix whose padded output fits (a burst end never leaves
        # without its padding: no call is due after the input ends)
        ends = eobs + 1 + np.cumsum(counts)             # output length through each padding
        over = np.flatnonzero(ends > m)
        if over.size:
            j = int(over[0])
            k = int(min(eobs[j], m - (ends[j] - eobs[j] - 1 - counts[j])))
        else:
            k = min(n, m - int(counts.sum()))
        if k <= 0:
            return 0
        sel = eobs < k
        e, c = eobs[sel], counts[sel]
        y = np.insert(inp[:k], np.repeat(e + 1, c), np.complex64(0)) if c.any() else inp[:k]
        out[:len(y)] = y
        base = self.nitems_written(0)
        for t in tags:
            rel = t.offset - start
            if rel < k:
                self.add_item_tag(0, base + rel + int(c[e < rel].sum()), t.key, t.value)
        self.padder.advance(k, e, c)
        self.consume(0, k)
        return len(y)


UHD_UNDERFLOW = 0x8 | 0x10          # uhd::async_metadata_t: underflow, underflow in packet


class uhd_async_counter(gr.basic_block):  # noqa: N801
    """Counts the async reports of gr-uhd's ``usrp_sink`` (its ``async_msgs`` port): underflows
    and sequence or time errors, so that they are shown in the run's summary instead of as "U"
    characters lost in stderr."""

    def __init__(self):
        gr.basic_block.__init__(self, name="semcom_uhd_async_counter", in_sig=None,
                                out_sig=None)
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self.handle)
        self.underflows = 0
        self.other = 0

    def handle(self, msg) -> None:
        kind = classify_uhd_async(msg)
        if kind == "underflow":
            self.underflows += 1
        elif kind != "ack":
            self.other += 1


def classify_uhd_async(msg) -> str:
    """-> 'underflow', 'ack', or 'error' for one ``async_msgs`` message (a dict with
    ``event_code``, an int bit mask or its name)."""
    try:
        d = pmt.to_python(pmt.car(msg) if pmt.is_pair(msg) and not pmt.is_dict(msg) else msg)
        code = d.get("event_code") if isinstance(d, dict) else None
    except Exception:       # noqa: BLE001 - a malformed report is still a report
        code = None
    if isinstance(code, int):
        return "underflow" if code & UHD_UNDERFLOW else "ack" if code == 0x1 else "error"
    text = str(code).lower()
    return "underflow" if "underflow" in text else "ack" if "ack" in text else "error"


class usrp_burst_guard(gr.basic_block):  # noqa: N801
    """complex64 in (``tx_sob``/``tx_eob`` tagged bursts, each followed by guard zeros) -> each
    burst with ``guard`` zeros *inside* it, ``tx_eob`` moved to the last of them, and nothing
    between bursts. For gr-uhd's sink: samples after a ``tx_eob`` and before the next
    ``tx_sob`` would start a burst that never ends, and UHD reports an underflow whenever the
    host then pauses (between images); the guard stays on the air as zeros of the burst, so
    the receiver still sees the silence it expects between frames. The appended guard leaves in
    the same call as the burst's last sample: a flowgraph that ends right after a burst still
    ends it.

    Timed bursts (``tx_time_offset`` > 0 s, ``semcom tx --tx-time-offset``): each ``tx_sob``
    also gets a ``tx_time`` tag in gr-uhd's format, a tuple (uint64 whole seconds, double
    fraction), of device time: the app sets the USRP's time to 0 and :attr:`time_zero` to the
    host's monotonic clock at that moment. A burst is due ``tx_time_offset`` after the host
    hands it over, and never before the previous burst (with its guard) has left:
    ``max(now - time_zero + tx_time_offset, previous start + previous length / samp_rate)``.
    """

    def __init__(self, guard: int = nm.DEFAULT_GUARD, samp_rate: float = 0.0,
                 tx_time_offset: float = 0.0):
        gr.basic_block.__init__(self, name="semcom_usrp_burst_guard", in_sig=[np.complex64],
                                out_sig=[np.complex64])
        self.guard = int(guard)
        self.samp_rate = float(samp_rate)
        self.tx_time_offset = float(tx_time_offset)
        if self.tx_time_offset > 0 and not self.samp_rate > 0:
            raise ValueError("usrp_burst_guard: timed bursts need the sample rate")
        self.time_zero: float | None = None     # host monotonic time of device time 0
        self.next_free = 0.0            # device time when the previous burst has left
        self.burst_time = 0.0           # the open burst's tx_time
        self.burst_len = 0              # samples of the open burst so far
        self.timed = 0                  # bursts given a tx_time
        self.ttime = pmt.intern("tx_time")
        self.set_tag_propagation_policy(gr.TPP_DONT)
        self.sob, self.eob = pmt.intern("tx_sob"), pmt.intern("tx_eob")
        self.inside = False             # between a tx_sob and its tx_eob
        self.dropped = 0                # samples outside bursts (the upstream guards)
        self.set_min_output_buffer(2 * self.guard + 8192)

    def forecast(self, noutput_items, ninputs):
        return [1] * ninputs

    def _tag_time(self, offset: int) -> None:
        """The ``tx_time`` of a burst starting at output item ``offset``."""
        if self.time_zero is None:      # nobody set the device time: the first burst's
            self.time_zero = time.monotonic()
        t = max(time.monotonic() - self.time_zero + self.tx_time_offset, self.next_free)
        secs = int(t)
        self.add_item_tag(0, offset, self.ttime,
                          pmt.make_tuple(pmt.from_uint64(secs), pmt.from_double(t - secs)))
        self.burst_time, self.burst_len = t, 0
        self.timed += 1

    def general_work(self, input_items, output_items):
        inp, out = input_items[0], output_items[0]
        n, m = len(inp), len(out)
        if not n:
            return 0
        timed = self.tx_time_offset > 0
        start = self.nitems_read(0)
        tags = self.get_tags_in_range(0, start, start + n)
        sobs = sorted({t.offset - start for t in tags if pmt.eq(t.key, self.sob)})
        eobs = sorted({t.offset - start for t in tags if pmt.eq(t.key, self.eob)})
        # walk the window segment by segment: (from, to, inside?) up to the space left
        i, produced, base = 0, 0, self.nitems_written(0)
        while i < n:
            if not self.inside:
                nxt = next((s for s in sobs if s >= i), None)
                if nxt is None:
                    self.dropped += n - i
                    i = n
                    break
                self.dropped += nxt - i
                i = nxt
                self.inside = True
                self.add_item_tag(0, base + produced, self.sob, pmt.PMT_T)
                if timed:
                    self._tag_time(base + produced)
            end = next((e for e in eobs if e >= i), None)
            stop = n if end is None else end + 1
            room = m - produced - (self.guard if end is not None else 0)
            if room <= 0:
                break
            k = min(stop - i, room)
            out[produced:produced + k] = inp[i:i + k]
            produced += k
            i += k
            self.burst_len += k
            if end is not None and i == end + 1:
                out[produced:produced + self.guard] = 0
                produced += self.guard
                self.add_item_tag(0, base + produced - 1, self.eob, pmt.PMT_T)
                self.inside = False
                if timed:
                    self.next_free = self.burst_time + (self.burst_len + self.guard) / \
                        self.samp_rate
            elif end is not None or k < stop - i + k:
                break
        self.consume(0, i)
        return produced
