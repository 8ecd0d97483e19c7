"""semcom.viterbi (the receiver's fast coding) against semcom.header's reference code."""

import numpy as np
import pytest

from semcom import header as ref
from semcom import viterbi as fast
from semcom.header import Header, HeaderError


def _noisy(rng, n_info, sigma, scale=1.0):
    bits = rng.integers(0, 2, n_info).astype(np.uint8)
    coded = ref.conv_encode(bits)
    return bits, scale * ((1.0 - 2.0 * coded) + rng.normal(0, sigma, coded.size))


def test_conv_encode_matches_reference():
    rng = np.random.default_rng(0)
    for n in (2, 10, 224, 617, 1000):
        bits = rng.integers(0, 2, n).astype(np.uint8)
        assert np.array_equal(fast.conv_encode(bits), ref.conv_encode(bits))


@pytest.mark.parametrize("n_info", [224, 618])
def test_viterbi_bit_exact_on_random_noisy_inputs(n_info):
    """Same bits as the reference on clean, noisy, scaled and tied (rounded) inputs; both the
    codeword shortcut and the fallback are exercised."""
    rng = np.random.default_rng(n_info)
    shortcut = 0
    for i in range(600 if n_info == 224 else 150):
        _, soft = _noisy(rng, n_info, rng.uniform(0.02, 1.3), rng.choice([1e-3, 1.0, 37.0, 1e4]))
        if i % 5 == 0:
            soft = np.round(soft)               # ties and zeros
        if i % 7 == 0:
            soft[rng.integers(0, soft.size, 3)] = 0.0
        want = ref.viterbi_decode(soft, n_info)
        got = fast.viterbi_decode(soft, n_info)
        assert np.array_equal(got, want), i
        hard = (soft < 0).astype(np.uint8)
        shortcut += np.array_equal(ref.conv_encode(want), hard) and np.all(soft != 0)
    assert shortcut > 20


def test_viterbi_nonfinite_and_odd_inputs_follow_reference():
    rng = np.random.default_rng(3)
    _, soft = _noisy(rng, 224, 0.1)
    for bad in (np.nan, np.inf, -np.inf):
        s = soft.copy()
        s[17] = bad
        assert np.array_equal(fast.viterbi_decode(s, 224), ref.viterbi_decode(s, 224))
    with pytest.raises(ValueError):
        fast.viterbi_decode(soft[:-2], 223)


def test_header_helpers_match_reference():
    rng = np.random.default_rng(5)
    h = Header(model_id=0x1234ABCD, image_id=7, seq=300, frame_idx=2, frame_count=5, keep=12,
               channels=16, lat_h=32, lat_w=32, img_h=256, img_w=256, payload_len=1920,
               tx_snr=Header.quantise_snr(10), session=9)
    sym = ref.encode_header(h)
    for sigma in (0.0, 0.3, 0.8):
        soft = sym.real + rng.normal(0, sigma, sym.size) if sigma else sym.real
        try:
            want = ref.decode_header(soft)
        except HeaderError:
            with pytest.raises(HeaderError):
                fast.decode_header_bits(soft)
            continue
        got, bits = fast.decode_header_bits(soft)
        assert got == want
        assert np.array_equal(bits, ref.pack_bits(want))
        assert np.array_equal(fast.header_symbols(bits), ref.encode_header(want))
        # the symbols from the shortcut's codeword (sigma 0) or re-encoded (noisy): as sent
        h2, bits2, sym2 = fast.decode_header_symbols(soft)
        assert h2 == want and np.array_equal(bits2, bits)
        assert sym2.dtype == np.complex64 and np.array_equal(sym2, ref.encode_header(want))
    bad = sym.real.copy()
    bad[:40] *= -1
    with pytest.raises(HeaderError):
        fast.decode_header_bits(bad)


def test_unpack_bits_and_header_dict_round_trip_match_reference():
    """Random bit vectors (almost all fail the CRC), valid headers, and headers with a valid
    CRC but impossible fields: same Header or the same HeaderError message."""
    rng = np.random.default_rng(11)
    n = ref.INFO_BITS + ref.CRC_BITS
    cases = [rng.integers(0, 2, n).astype(np.uint8) for _ in range(50)]
    for _ in range(200):
        h = Header(model_id=int(rng.integers(0, 1 << 32)), image_id=int(rng.integers(0, 65536)),
                   seq=int(rng.integers(0, 65536)), frame_idx=int(rng.integers(0, 256)),
                   frame_count=int(rng.integers(0, 256)), keep=int(rng.integers(0, 256)),
                   channels=int(rng.integers(0, 256)), lat_h=int(rng.integers(0, 4096)),
                   lat_w=int(rng.integers(0, 4096)), img_h=int(rng.integers(0, 65536)),
                   img_w=int(rng.integers(0, 65536)), payload_len=int(rng.integers(0, 65536)),
                   tx_snr=int(rng.integers(0, 256)), flags=int(rng.integers(0, 3)),
                   session=int(rng.integers(0, 256)), version=int(rng.choice([3, 3, 2])))
        cases.append(ref.pack_bits(h))
    ok = 0
    for bits in cases:
        try:
            want = ref.unpack_bits(bits)
        except HeaderError as exc:
            with pytest.raises(HeaderError, match=str(exc).replace("(", r"\(").replace(")", r"\)")):
                fast.unpack_bits(bits)
            continue
        got = fast.unpack_bits(bits)
        assert got == want
        d = got.to_dict()
        assert d["model_id"] == f"{want.model_id:08x}" and d["tx_snr_db"] == want.tx_snr_db
        assert set(d) == {name for name, _ in ref.FIELDS} | {"tx_snr_db"}
        assert Header.from_dict(d) == want       # the frame PDU's metadata rebuilds it
        ok += 1
    assert ok > 10
