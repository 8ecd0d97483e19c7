"""Side information on the air: a model's bits besides its symbols (shared by TX and RX).

A model with side information (``side_bits`` > 0, e.g. SoftCast's chunk variances) sends it
once per image in its own frame, the *side frame* (header flag :data:`semcom.header.FLAG_SIDE`,
sent before the image's payload frames). Coding, as strong as the header's: the bits, zero-
padded to an even trellis length, then CRC-32 (zlib polynomial), the header's rate-1/2 K=7
convolutional code with 6 tail bits, zero padding to whole OFDM symbols (48 data carriers),
XOR a PN sequence (seed ``0x51DE``); like the header this block is sent twice
(:data:`REPEAT`, overall rate about 1/4, so side frames decode where headers do, -2 dB), BPSK
(bit 0 -> +1); the framer then applies the payload interleaver of :mod:`semcom.interleave` as
to every payload (the receiver undoes it, which also spreads a bit's two copies over the
frame). The receiver adds the two copies' soft values (real part over the per-symbol noise
variance) and decodes with soft-decision Viterbi; a CRC mismatch loses the side information
and the image (counted).
"""

from __future__ import annotations

import zlib

import numpy as np

from semcom.header import K
from semcom.numerology import N_DATA
from semcom.viterbi import conv_encode, viterbi_decode  # same bits as semcom.header's, faster

CRC_BITS = 32
PN_SEED = 0x51DE
REPEAT = 2          # copies of the coded block


class SideInfoError(ValueError):
    """Side information that fails its CRC or has the wrong length."""


def _padded(n_bits: int) -> int:
    return n_bits + (n_bits + CRC_BITS + K - 1) % 2


def n_symbols(n_bits: int) -> int:
    """Channel symbols of the side frame's payload for ``n_bits`` of side information."""
    if n_bits <= 0:
        return 0
    return REPEAT * _block(n_bits)


def _block(n_bits: int) -> int:
    """Symbols of one copy of the coded side information (whole OFDM symbols)."""
    coded = 2 * (_padded(n_bits) + CRC_BITS + K - 1)
    return -(-coded // N_DATA) * N_DATA


def _pn(n: int) -> np.ndarray:
    return np.random.default_rng(PN_SEED).integers(0, 2, n).astype(np.uint8)


def _crc_bits(info: np.ndarray) -> np.ndarray:
    crc = zlib.crc32(np.packbits(info).tobytes()) & 0xFFFFFFFF
    return ((crc >> np.arange(31, -1, -1)) & 1).astype(np.uint8)


def encode(bits: np.ndarray) -> np.ndarray:
    """Side-information bits (uint8 0/1) -> complex64 BPSK symbols (``n_symbols``)."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    n = _block(bits.size)
    info = np.zeros(_padded(bits.size), np.uint8)
    info[:bits.size] = bits
    coded = conv_encode(np.concatenate([info, _crc_bits(info)]))
    frame = np.zeros(n, np.uint8)
    frame[:coded.size] = coded
    frame ^= _pn(n)
    return np.tile(1.0 - 2.0 * frame, REPEAT).astype(np.complex64)


def decode(symbols: np.ndarray, noise_var: np.ndarray | None, n_bits: int) -> np.ndarray:
    """Equalised, deinterleaved side-frame symbols (and their noise variances) -> ``n_bits``
    bits, or
    :class:`SideInfoError` (wrong length, CRC mismatch, non-finite values)."""
    symbols = np.asarray(symbols, dtype=np.complex64).ravel()
    n = n_symbols(n_bits)
    if symbols.size != n:
        raise SideInfoError(f"side frame of {symbols.size} symbols, expected {n}")
    y = symbols.real.astype(np.float64)
    if noise_var is not None:
        y = y / np.maximum(np.asarray(noise_var, np.float64).ravel(), 1e-12)
    if not np.all(np.isfinite(y)):
        raise SideInfoError("non-finite side-frame symbols")
    nb = _block(n_bits)
    y = y.reshape(REPEAT, nb).sum(axis=0) * (1.0 - 2.0 * _pn(nb))
    m = _padded(n_bits)
    coded_len = 2 * (m + CRC_BITS + K - 1)
    dec = viterbi_decode(y[:coded_len], m + CRC_BITS)
    info, crc = dec[:m], dec[m:]
    if not np.array_equal(_crc_bits(info), crc):
        raise SideInfoError("side information CRC mismatch")
    return info[:n_bits].copy()
