"""The receiver's frame PDUs (issue 13, speed): a decoder in the same process takes the Frame
behind a PDU by its key instead of converting the PDU back; the PDU itself still carries
everything (other consumers, other processes), and a PDU from elsewhere is parsed."""

from __future__ import annotations

import numpy as np
import phy_helpers as ph
import pmt

from sdr_rx import ofdm_receiver as orx
from sdr_rx.jscc_decoder import _RxFrame
from sdr_rx.stream_receiver import Frame
from semcom.header import Header


def _frame(image_id=0, n=128):
    h = Header(model_id=0, image_id=image_id, seq=image_id, frame_idx=0, frame_count=1,
               keep=32, channels=32, lat_h=2, lat_w=2, img_h=16, img_w=16, payload_len=n,
               session=3)
    rng = np.random.default_rng(image_id)
    sym = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    return Frame(h, sym, rng.random(n).astype(np.float32), 10.0, 0.1, 0.0, 1000, 0.9)


def test_pdu_carries_the_frame_and_its_key_finds_the_same_object():
    f = _frame()
    msg = orx.frame_to_pdu(f)
    assert orx.local_frame(msg) is f
    parsed = _RxFrame(msg)                  # what another process gets: the same content
    assert parsed.header == f.header
    np.testing.assert_array_equal(parsed.symbols, f.symbols)
    np.testing.assert_array_equal(parsed.noise_var, f.noise_var)
    assert parsed.snr_db == round(f.snr_db, 3)


def test_foreign_or_forgotten_or_malformed_pdus_are_not_local():
    f = _frame()
    msg = orx.frame_to_pdu(f)
    meta = pmt.dict_add(pmt.car(msg), orx.FRAME_KEY, pmt.intern("0123456789abcdef:0"))
    assert orx.local_frame(pmt.cons(meta, pmt.cdr(msg))) is None       # another process
    assert orx.local_frame(pmt.intern("junk")) is None
    assert orx.local_frame(pmt.cons(pmt.make_dict(), pmt.PMT_NIL)) is None
    for i in range(orx.LOCAL_FRAMES):                                   # the oldest forgotten
        orx.frame_to_pdu(_frame(i + 1))
    assert orx.local_frame(msg) is None
    assert _RxFrame(msg).header == f.header                             # still parses


def test_decoder_takes_local_frames_without_converting_and_parses_others(tmp_path,
                                                                         monkeypatch):
    from sdr_rx import jscc_decoder as jd

    dec = jd.jscc_decoder(str(ph.tiny_checkpoint(tmp_path / "a.pt")), queue_images=0)
    seen = []
    monkeypatch.setattr(dec, "add_frame", seen.append)
    converted = []
    real = jd._RxFrame

    def spy(msg):
        converted.append(msg)
        return real(msg)
    monkeypatch.setattr(jd, "_RxFrame", spy)
    local = _frame(1)
    dec.handle_frame(orx.frame_to_pdu(local))
    assert seen == [local] and converted == []
    foreign = orx.frame_to_pdu(_frame(2))
    meta = pmt.dict_delete(pmt.car(foreign), orx.FRAME_KEY)
    dec.handle_frame(pmt.cons(meta, pmt.cdr(foreign)))
    assert len(converted) == 1 and seen[1].header.image_id == 2
    np.testing.assert_array_equal(seen[1].symbols, _frame(2).symbols)
