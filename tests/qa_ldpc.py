"""LDPC through gr-fec (semcom.ldpc) with the 802.11n alist files, and the QAM/LLR contract
(semcom.mcs): real encoder and decoder, hand-computed LLRs."""

from __future__ import annotations

import numpy as np
import pytest

from semcom import ldpc, mcs
from semcom.fec import make_alist


def _h_from_alist(path) -> np.ndarray:
    lines = path.read_text().split("\n")
    n, m = map(int, lines[0].split())
    H = np.zeros((m, n), np.uint8)
    for j in range(n):
        for r in map(int, lines[4 + j].split()):
            if r:
                H[r - 1, j] = 1
    return H


@pytest.mark.parametrize("rate", ldpc.RATES)
def test_alist_files_are_the_generated_80211n_matrices(rate):
    key = rate.replace("/", "_")
    H = make_alist.parity_check(key)
    assert ldpc.alist_path(rate).read_text() == make_alist.alist_text(H)
    a, b = map(int, rate.split("/"))
    assert H.shape == (1944 * (b - a) // b, 1944)
    # quasi-cyclic: 81x81 circulants, so every row (and column) weight repeats 81 times
    assert H.sum(0).min() >= 2
    assert (H.sum(1).reshape(-1, 81) == H.sum(1)[::81, None]).all()


@pytest.mark.parametrize("rate", ldpc.RATES)
def test_gr_fec_encoder_makes_codewords_of_h(rate):
    code = ldpc.code(rate)
    assert code.k == round(1944 * mcs.MCS(0, "x", 1, rate).r) and code.n == 1944
    rng = np.random.default_rng(1)
    u = rng.integers(0, 2, 3 * code.k).astype(np.uint8)
    x = code.encode(u).reshape(3, code.n)
    H = _h_from_alist(ldpc.alist_path(rate)).astype(np.int64)
    assert not ((H @ x.T.astype(np.int64)) % 2).any()       # H x = 0 for every codeword
    assert x.any(axis=1).all()
    assert np.array_equal(code.decode((1.0 - 2.0 * x).ravel() * 8.0), u)


def test_decoder_corrects_channel_errors_rate_half():
    code = ldpc.code("1/2")
    rng = np.random.default_rng(2)
    u = rng.integers(0, 2, 4 * code.k).astype(np.uint8)
    x = code.encode(u)
    sigma = 10 ** (-3.0 / 20)               # BPSK at Es/N0 3 dB
    y = (1.0 - 2.0 * x) + sigma * rng.standard_normal(x.size)
    llr = 2 * y / sigma ** 2
    assert ((llr < 0) != x).sum() > 100      # the channel made errors ...
    assert np.array_equal(code.decode(llr), u)   # ... and gr-fec's decoder removed them


def test_wrong_sizes_and_rates_are_refused():
    with pytest.raises(ValueError, match="rate 7/8"):
        ldpc.alist_path("7/8")
    with pytest.raises(ValueError, match="whole codewords"):
        ldpc.code("1/2").encode(np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match="whole codewords"):
        ldpc.code("1/2").decode(np.zeros(10, np.float32))


def test_llr_sign_and_scale_hand_computed():
    # BPSK: bit 0 -> +1; y = 0.5, complex noise variance 0.5 (0.25 per axis):
    # LLR = ((y + 1)^2 - (y - 1)^2) / 0.5 = 4 * 0.5 / 0.5 = 4
    assert mcs.llr(np.array([0.5 + 0.3j]), np.array([0.5]), 1) == pytest.approx([4.0])
    # 16-QAM, a = 1/sqrt(10); I levels -3a, -a, a, 3a carry Gray labels 00, 01, 11, 10.
    # y = 2a - 3a j, noise variance 0.1:
    #   I MSB: nearest 1 at a (d = a^2 = 0.1), nearest 0 at -a (d = 9a^2 = 0.9) -> -8
    #   I LSB: nearest 1 at a (0.1), nearest 0 at 3a (0.1)                          ->  0
    #   Q MSB: 0 at -3a (d = 0), nearest 1 at -a (d = 4a^2 = 0.4)... MSB 1 needs a:
    #          (a + 3a)^2 = 1.6                                                     -> 16
    #   Q LSB: 0 at -3a (0), nearest 1 at -a (0.4)                                  ->  4
    a = 1 / np.sqrt(10)
    got = mcs.llr(np.array([2 * a - 3j * a]), np.array([0.1]), 4)
    assert got == pytest.approx([-8.0, 0.0, 16.0, 4.0], abs=1e-5)
    # and the labels agree with the modulator: 1101 -> I = a (11), Q = -a (01)
    assert mcs.modulate(np.array([1, 1, 0, 1], np.uint8), 4) == pytest.approx([a - 1j * a])


@pytest.mark.parametrize("m", mcs.TABLE, ids=lambda m: m.name)
def test_qam_unit_energy_gray_and_noiseless_llr_signs(m):
    pts, labels = mcs.constellation(m.bits)
    assert np.mean(np.abs(pts) ** 2) == pytest.approx(1.0)
    assert np.allclose(mcs.modulate(labels.ravel(), m.bits), pts)
    if m.bits > 1:          # Gray: nearest neighbours differ in exactly one bit
        d = np.abs(pts[:, None] - pts[None, :])
        dmin = d[d > 0].min()
        i, j = np.nonzero(np.isclose(d, dmin))
        assert ((labels[i] != labels[j]).sum(1) == 1).all()
    llr = mcs.llr(pts, np.full(len(pts), 0.01), m.bits)
    assert np.array_equal(llr < 0, labels.ravel() == 1)


def test_mcs_names_and_indices_refused_by_name():
    assert mcs.by_name("16qam-3/4").bits == 4
    with pytest.raises(mcs.MCSError, match="unknown MCS 'qpsk-7/8'.*qpsk-1/2"):
        mcs.by_name("qpsk-7/8")
    with pytest.raises(mcs.MCSError, match="unknown MCS index 8.*7 64qam-5/6"):
        mcs.check_header(9, len(mcs.TABLE), mcs.CODEC_WEBP)
    with pytest.raises(mcs.MCSError, match="table of 12 entries"):
        mcs.check_header(1, 12, mcs.CODEC_WEBP)
    with pytest.raises(mcs.MCSError, match="unknown image codec 3"):
        mcs.check_header(1, len(mcs.TABLE), 3)
