"""The image PDU's pixel vector (sdr_tx.image_source): built and read through PMT's serialised
form, the same u8vector (and the same pixels) as PMT's element-wise functions give, for any
length; the element-wise way is used should the serialised form not check out."""

from __future__ import annotations

import numpy as np
import pmt
import pytest

from sdr_tx import image_source as src


@pytest.mark.parametrize("n", [0, 1, 2, 255, 256, 65536, 256 * 256 * 3 + 7])
@pytest.mark.parametrize("fast", [True, False])
def test_u8vector_round_trip_equals_element_wise(n, fast, monkeypatch):
    monkeypatch.setattr(src, "_U8_FAST", fast and src._U8_FAST)
    a = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    v = src.u8vector(a)
    assert pmt.is_u8vector(v) and pmt.length(v) == n
    assert pmt.equal(v, pmt.init_u8vector(n, a.tolist()))
    back = src.u8vector_array(v)
    assert back.dtype == np.uint8 and np.array_equal(back, a)
    # a vector made element-wise (another block's) reads back the same
    assert np.array_equal(src.u8vector_array(pmt.init_u8vector(n, a.tolist())), a)


def test_the_serialised_form_checks_out_here():
    assert src._U8_FAST       # GNU Radio 3.10's wire format: the fast way is in use


def test_image_pdu_carries_the_pixels_and_the_meta():
    img = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    p = src.image_pdu("a.png", 9, img)
    meta = pmt.to_python(pmt.car(p))
    assert meta == {"name": "a.png", "image_id": 9, "height": 5, "width": 7}
    assert np.array_equal(np.asarray(pmt.u8vector_elements(pmt.cdr(p)), np.uint8),
                          img.reshape(-1))
