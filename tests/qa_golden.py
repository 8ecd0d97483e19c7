"""Golden vectors of the air interface (tests/golden/, made by tests/golden/make_golden.py): a
change to the frame format or the TX chain's output fails here until the vectors are
regenerated on purpose (run the script, review, commit)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = "frame format changed: if on purpose, run python tests/golden/make_golden.py"


def _maker():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_header_bits_are_the_golden_ones():
    mk = _maker()
    stored = np.array([int(c) for c in (GOLDEN / "header_bits.txt").read_text().strip()],
                      np.uint8)
    assert json.loads((GOLDEN / "header.json").read_text()) == mk.HEADER, REGEN
    assert np.array_equal(mk.header_bits(), stored), REGEN


def test_golden_header_bits_decode_to_the_golden_header():
    from semcom.header import decode_header

    mk = _maker()
    bits = np.array([int(c) for c in (GOLDEN / "header_bits.txt").read_text().strip()])
    h = decode_header(1.0 - 2.0 * bits)
    assert {k: getattr(h, k) for k in mk.HEADER} == mk.HEADER, REGEN


def test_first_burst_of_the_tx_chain_is_the_golden_one():
    mk = _maker()
    stored = np.fromfile(GOLDEN / "burst.cf32", np.complex64)
    meta = json.loads((GOLDEN / "burst.json").read_text())
    assert stored.size == meta["samples"] > 0
    now = mk.first_burst()
    assert now.size == stored.size, REGEN
    # the same chain on another machine: FFT rounding only
    assert np.max(np.abs(now - stored)) < 1e-5, REGEN


def test_the_receiver_decodes_the_golden_burst():
    from sdr_rx.stream_receiver import StreamReceiver

    mk = _maker()
    burst = np.fromfile(GOLDEN / "burst.cf32", np.complex64)
    x = np.concatenate([np.zeros(500, np.complex64), burst, np.zeros(2000, np.complex64)])
    rx = StreamReceiver(1e6)
    frames = rx.push(x) + rx.drain()
    assert len(frames) == 1
    h = frames[0].header
    assert (h.session, h.image_id, h.frame_idx) == (mk.SESSION, 0, 0)
    assert h.img_h == mk.IMAGE[2] and h.img_w == mk.IMAGE[3]
