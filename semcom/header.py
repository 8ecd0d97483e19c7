"""The frame header: fields, bit layout, CRC, channel coding (shared by TX and RX).

Layout version 3 (``docs/header.md``): 192 information bits, MSB first,

    version 4 | flags 4 | model_id 32 | image_id 16 | seq 16 | frame_idx 8 | frame_count 8 |
    keep 8 | channels 8 | lat_h 12 | lat_w 12 | img_h 16 | img_w 16 | payload_len 16 |
    tx_snr 8 | session 8

then CRC-32 (zlib polynomial) over the 24 header bytes -> 224 bits, a rate-1/2 K=7
convolutional code (generators 133, 171 octal, 6 zero tail bits) -> 460 bits, 20 zero pad bits
-> 480 bits, XOR a fixed PN sequence; this block is sent twice (:data:`REPEAT`, overall rate
about 1/4): copy 1 on the 48 data carriers of header symbols 0-9, copy 2 on symbols 10-19 with
each symbol's 48 values rotated by 24 carriers (a bit's two copies sit 10 symbols and half the
band apart), BPSK (bit 0 -> +1): 960 symbols, :data:`FRAME_BITS`. The receiver adds the two
copies' soft values before the Viterbi decoder (decodes at -2 dB, ``docs/header.md``).
``tx_snr`` is the SNR the encoder was told, in 0.25 dB steps from -10 dB.
``session`` is the TX run's id, so a restarted TX's image ids never collide with the last
run's. ``flags`` bit 0 (:data:`FLAG_SIDE`) marks a side frame (:mod:`semcom.sideinfo`): its payload
is the image's coded side information, not JSCC symbols. ``flags`` bits 1-3 hold the
``scheme`` (version 3): 0 = JSCC (analog symbols), 1 = digital (image codec + channel code + QAM);
a receiver refuses any other value by name.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from semcom.numerology import HEADER_SYMBOLS
from semcom.numerology import N_DATA as _N_DATA

VERSION = 3
FLAG_SIDE = 0x1          # the payload is the image's side information (semcom.sideinfo)
SCHEME_SHIFT = 1         # flags bits 1-3: the payload scheme
SCHEME_JSCC = 0
SCHEME_DIGITAL = 1
SCHEMES = {SCHEME_JSCC: "jscc", SCHEME_DIGITAL: "digital"}
FIELDS = (("version", 4), ("flags", 4), ("model_id", 32), ("image_id", 16), ("seq", 16),
          ("frame_idx", 8), ("frame_count", 8), ("keep", 8), ("channels", 8), ("lat_h", 12),
          ("lat_w", 12), ("img_h", 16), ("img_w", 16), ("payload_len", 16), ("tx_snr", 8),
          ("session", 8))
INFO_BITS = sum(w for _, w in FIELDS)          # 192
CRC_BITS = 32
K = 7
G = (0o133, 0o171)
CODED_BITS = 2 * (INFO_BITS + CRC_BITS + K - 1)  # 460
REPEAT = 2                                        # copies of the block on the air
BLOCK_BITS = HEADER_SYMBOLS // REPEAT * _N_DATA   # 480: one copy, 10 OFDM symbols
FRAME_BITS = REPEAT * BLOCK_BITS                  # 960 header symbols (20 OFDM symbols)
COPY_SHIFT = _N_DATA // 2                         # carrier rotation of copy 2 inside a symbol
PN = np.random.default_rng(0x4EAD).integers(0, 2, BLOCK_BITS).astype(np.uint8)
assert CODED_BITS <= BLOCK_BITS and HEADER_SYMBOLS % REPEAT == 0


class HeaderError(ValueError):
    """A header that fails its CRC or carries impossible values."""


@dataclass
class Header:
    model_id: int
    image_id: int
    seq: int
    frame_idx: int
    frame_count: int
    keep: int
    channels: int
    lat_h: int
    lat_w: int
    img_h: int
    img_w: int
    payload_len: int
    tx_snr: int = 80          # quantised: (tx_snr_db + 10) * 4
    flags: int = 0
    session: int = 0          # the TX's run id (1..255, drawn at start; 0: not set)
    version: int = VERSION

    @staticmethod
    def quantise_snr(snr_db: float) -> int:
        return int(np.clip(round((snr_db + 10.0) * 4), 0, 255))

    @staticmethod
    def snr_grid(snr_db: float) -> float:
        """An SNR rounded to what the header can carry (0.25 dB steps, -10..53.75 dB)."""
        return Header.quantise_snr(snr_db) / 4.0 - 10.0

    @property
    def is_side(self) -> bool:
        return bool(self.flags & FLAG_SIDE)

    @property
    def scheme(self) -> int:
        return (self.flags >> SCHEME_SHIFT) & 0x7

    @property
    def scheme_name(self) -> str:
        return SCHEMES.get(self.scheme, f"unknown scheme {self.scheme}")

    @staticmethod
    def scheme_flags(scheme: int) -> int:
        """The ``flags`` bits that carry ``scheme`` (OR them with FLAG_SIDE where needed)."""
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme}")
        return scheme << SCHEME_SHIFT

    @property
    def tx_snr_db(self) -> float:
        return self.tx_snr / 4.0 - 10.0

    def to_dict(self) -> dict:
        """The header as the frame PDU's metadata, frame logs and reports carry it: every
        field by name, ``model_id`` as 8 hex digits, plus ``tx_snr_db``. Inverse:
        :meth:`from_dict`. (No ``dataclasses.asdict``: its deep copies cost per frame, and the
        fields are plain ints.)"""
        d = {name: getattr(self, name) for name in _FIELD_NAMES}
        d["model_id"] = f"{self.model_id:08x}"
        d["tx_snr_db"] = self.tx_snr_db
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Header:
        """:meth:`to_dict`'s output (or any mapping holding those keys, e.g. a frame PDU's
        metadata) -> Header; extra keys are ignored, a missing field raises KeyError."""
        fields = {name: int(d[name]) for name in _FIELD_NAMES if name != "model_id"}
        return cls(model_id=int(d["model_id"], 16), **fields)

    def validate(self) -> None:
        if self.version != VERSION:
            raise HeaderError(f"header version {self.version}, this receiver reads version "
                              f"{VERSION}: TX and RX must run the same frame format")
        if self.scheme not in SCHEMES:
            raise HeaderError(f"unknown scheme {self.scheme} in header (this receiver knows "
                              + ", ".join(f"{k} = {v}" for k, v in SCHEMES.items()) + ")")
        if self.scheme == SCHEME_DIGITAL:      # keep = MCS index + 1 (semcom.mcs)
            from semcom import mcs
            try:
                mcs.check_header(self.keep, self.channels, self.lat_w)
            except mcs.MCSError as e:
                raise HeaderError(str(e)) from None
        if not (1 <= self.keep <= self.channels):
            raise HeaderError(f"keep {self.keep} outside 1..{self.channels}")
        if not (self.frame_idx < self.frame_count):
            raise HeaderError(f"frame {self.frame_idx} of {self.frame_count}")
        if self.payload_len == 0:
            raise HeaderError("empty payload")


_FIELD_NAMES = tuple(Header.__dataclass_fields__)


def model_id_from_hash(model_hash: str) -> int:
    """The 32-bit model id carried in the header: the first 8 hex digits of the model hash."""
    return int(model_hash[:8], 16)


def pack_bits(h: Header) -> np.ndarray:
    """Header -> 224 bits (info + CRC-32), uint8 0/1."""
    values = asdict(h)
    bits = []
    for name, width in FIELDS:
        v = int(values[name])
        if not 0 <= v < (1 << width):
            raise ValueError(f"header field {name}={v} does not fit {width} bits")
        bits.extend((v >> (width - 1 - i)) & 1 for i in range(width))
    info = np.array(bits, dtype=np.uint8)
    crc = zlib.crc32(np.packbits(info).tobytes())
    crc_bits = np.array([(crc >> (31 - i)) & 1 for i in range(32)], dtype=np.uint8)
    return np.concatenate([info, crc_bits])


def unpack_bits(bits: np.ndarray) -> Header:
    """224 bits -> Header; raises HeaderError on a CRC mismatch or invalid fields."""
    bits = np.asarray(bits, dtype=np.uint8)
    info, crc_bits = bits[:INFO_BITS], bits[INFO_BITS:INFO_BITS + CRC_BITS]
    crc = int("".join(map(str, crc_bits)), 2)
    if zlib.crc32(np.packbits(info).tobytes()) != crc:
        raise HeaderError("header CRC mismatch")
    vals, pos = {}, 0
    for name, width in FIELDS:
        vals[name] = int("".join(map(str, info[pos:pos + width])), 2)
        pos += width
    h = Header(**vals)
    h.validate()
    return h


def _trellis():
    states = np.arange(64)
    nxt = np.zeros((64, 2), np.int64)
    out = np.zeros((64, 2, 2), np.uint8)
    for b in (0, 1):
        reg = (b << 6) | states
        nxt[:, b] = reg >> 1
        for j, g in enumerate(G):
            out[:, b, j] = np.array([bin(r & g).count("1") & 1 for r in reg])
    return nxt, out


_NEXT, _OUT = _trellis()


def conv_encode(bits: np.ndarray) -> np.ndarray:
    state, out = 0, []
    for b in np.concatenate([bits, np.zeros(K - 1, np.uint8)]):
        out.extend(_OUT[state, b])
        state = _NEXT[state, b]
    return np.array(out, dtype=np.uint8)


# Viterbi, two trellis steps per iteration (radix 4). For a state ns after inputs b1 then b2
# the four predecessors two steps back are ((ns & 15) << 2) | x, x = 0..3, and
# b1 = bit 4 of ns, b2 = bit 5. _EXP4[ns, x] holds the 4 coded bits (+-1) of those two steps.
_NS = np.arange(64)
_PRED4 = ((_NS & 15) << 2)[:, None] | np.arange(4)[None, :]
_B1, _B2 = (_NS >> 4) & 1, (_NS >> 5) & 1


def _exp4() -> np.ndarray:
    e = np.zeros((64, 4, 4))
    for ns in range(64):
        for x in range(4):
            s0 = _PRED4[ns, x]
            s1 = _NEXT[s0, _B1[ns]]
            bits = list(_OUT[s0, _B1[ns]]) + list(_OUT[s1, _B2[ns]])
            e[ns, x] = 1.0 - 2.0 * np.array(bits)
    return e


_EXP4 = _exp4()
_EXP4_M = _EXP4.reshape(64 * 4, 4).T.copy()     # (4 coded bits, ns * x): one matrix product


def viterbi_decode(soft: np.ndarray, n_info: int) -> np.ndarray:
    """Soft-decision Viterbi: ``soft`` are BPSK observations (+ for bit 0) of the coded bits,
    scaled by reliability; returns ``n_info`` decoded bits (the zero tail is dropped)."""
    steps = len(soft) // 2
    if steps % 2:
        raise ValueError("radix-4 Viterbi needs an even number of trellis steps")
    pairs = steps // 2
    quads = np.asarray(soft[:4 * pairs], dtype=np.float64).reshape(pairs, 4)
    bm_all = (quads @ _EXP4_M).reshape(pairs, 64, 4)
    pm = np.full(64, -1e18)
    pm[0] = 0.0
    decisions = np.empty((pairs, 64), np.int64)
    rows = np.arange(64)
    for t in range(pairs):
        cand = pm[_PRED4] + bm_all[t]
        best = cand.argmax(axis=1)
        decisions[t] = best
        pm = cand[rows, best]
    state, bits = 0, []
    for t in range(pairs - 1, -1, -1):
        bits.append(_B2[state])
        bits.append(_B1[state])
        state = _PRED4[state, decisions[t, state]]
    return np.array(bits[::-1], dtype=np.uint8)[:n_info]


# copy 2's order: value i of copy 2 is value _COPY2[i] of the block (each symbol's 48 values
# rotated by COPY_SHIFT carriers); _COPY2_INV undoes it
_COPY2 = np.roll(np.arange(BLOCK_BITS).reshape(-1, _N_DATA), COPY_SHIFT, axis=1).reshape(-1)
_COPY2_INV = np.argsort(_COPY2)


def repeat_block(block: np.ndarray) -> np.ndarray:
    """One 480-value block (10 symbols x 48 carriers) -> the 960 values on the air: the block,
    then the block with each symbol's values rotated by :data:`COPY_SHIFT` carriers."""
    b = np.asarray(block).reshape(-1)
    return np.concatenate([b, b[_COPY2]])


def combine_copies(soft: np.ndarray) -> np.ndarray:
    """960 soft values on the air -> 480: the two copies, aligned and added."""
    s = np.asarray(soft, dtype=np.float64).reshape(-1)[:FRAME_BITS]
    if s.size < FRAME_BITS:
        raise HeaderError(f"header of {s.size} soft values, expected {FRAME_BITS}")
    return s[:BLOCK_BITS] + s[BLOCK_BITS:][_COPY2_INV]


def encode_header(h: Header) -> np.ndarray:
    """Header -> 960 BPSK symbols (complex64, +-1)."""
    coded = conv_encode(pack_bits(h))
    frame = np.zeros(BLOCK_BITS, np.uint8)
    frame[:CODED_BITS] = coded
    frame ^= PN
    return (1.0 - 2.0 * repeat_block(frame)).astype(np.complex64)


def decode_header(soft: np.ndarray) -> Header:
    """960 real soft values (BPSK, + for bit 0, scaled by reliability) -> Header or
    HeaderError."""
    soft = combine_copies(soft) * (1.0 - 2.0 * PN)
    bits = viterbi_decode(soft[:CODED_BITS], INFO_BITS + CRC_BITS)
    return unpack_bits(bits)
