"""tx_level: vector_source -> tx_level -> vector_sink. Every burst keeps its whole guard, the
last one included (the input has ended by then), scaled, tagged tx_sob / tx_eob."""

from __future__ import annotations

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr
from gnuradio.gr import tag_utils

from sdr_tx.tx_level import tx_level


@pytest.mark.parametrize("lengths", [(100,), (8191,), (8192, 50), (32767, 4000, 65000)])
def test_every_burst_keeps_its_whole_guard(lengths):
    guard = 400
    tags, off, data = [], 0, []
    for n in lengths:
        tags.append(tag_utils.python_to_tag((off, pmt.intern("packet_len"), pmt.from_long(n),
                                             pmt.PMT_F)))
        data.append(np.full(n, 0.5 + 0.5j, np.complex64))
        off += n
    tb = gr.top_block()
    src = blocks.vector_source_c(np.concatenate(data).tolist(), False, 1, tags)
    lv = tx_level(0.5, guard)
    snk = blocks.vector_sink_c()
    tb.connect(src, lv, snk)
    tb.run()
    out = np.asarray(snk.data())
    assert out.size == sum(lengths) + guard * len(lengths) == lv.total
    pos = 0
    for n in lengths:
        assert np.allclose(out[pos:pos + n], 0.25 + 0.25j)
        assert not np.any(out[pos + n:pos + n + guard])
        pos += n + guard
    sob = sorted(t.offset for t in snk.tags() if pmt.symbol_to_string(t.key) == "tx_sob")
    eob = sorted(t.offset for t in snk.tags() if pmt.symbol_to_string(t.key) == "tx_eob")
    starts = np.cumsum([0] + [n + guard for n in lengths])[:-1]
    assert sob == list(starts)
    assert eob == [s + n - 1 for s, n in zip(starts, lengths, strict=True)]
