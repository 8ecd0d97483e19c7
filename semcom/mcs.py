"""The digital scheme's contract (TX and RX both import it): the MCS table, Gray QAM, max-log
LLRs, and what the frame header's fields mean for a digital frame.

Digital link (issue 16): image -> WebP at the quality that fits the air-time budget -> bytes
with a length prefix -> LDPC codewords (IEEE 802.11n n = 1944 codes, encoded and decoded by
GNU Radio gr-fec, :mod:`semcom.ldpc`) -> per-frame bit interleaver -> Gray QAM on the same 48
data carriers, preamble, header and pilots as a JSCC payload (:mod:`semcom.numerology`).

Header fields of a digital frame (``flags`` scheme = :data:`semcom.header.SCHEME_DIGITAL`):

- ``model_id``: :data:`DIGITAL_ID` (this module's format: a receiver of another format drops it)
- ``keep``: MCS index + 1 (1..len(TABLE)); ``channels``: ``len(TABLE)`` (the table both sides
  hold; a header whose ``channels`` differs is refused, naming both tables' sizes)
- ``lat_h``: codewords of the whole image (1..4095); ``lat_w``: the image codec (0 = WebP)
- ``frame_idx`` / ``frame_count``: as for JSCC; frame ``i`` carries the contiguous codewords
  :func:`frame_codewords` gives it; ``payload_len`` = its codewords x n / bits per symbol
- ``tx_snr``: the SNR the MCS was chosen for; ``img_h`` / ``img_w``: the image size
"""

from __future__ import annotations

import binascii
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_CODE = 1944                        # LDPC codeword length (bits)
CODEC_WEBP = 0
CODECS = {CODEC_WEBP: "webp"}
DIGITAL_ID = zlib.crc32(b"semcom digital v1: webp, 802.11n LDPC n=1944, Gray QAM") & 0xFFFFFFFF
BIT_PN_SEED = 0xD161                 # coded-bit scrambler
BIT_IL_SEED = 0xB17                  # per-frame bit interleaver
CRC_BITS = 16                        # per codeword: CRC-16 of its data bits
LLR_CLIP = 10.0                      # |LLR| cap: gr-fec's decoder works in likelihood ratios


THRESHOLDS = Path(__file__).resolve().parent / "fec" / "thresholds.json"
# Until measured (``python -m benchmarks.versus --thresholds``): textbook values for these
# codes with an ideal decoder plus 2 dB.
NOMINAL_DB = {"bpsk-1/2": 3.0, "qpsk-1/2": 6.0, "qpsk-3/4": 9.0, "16qam-1/2": 12.0,
              "16qam-3/4": 15.5, "64qam-2/3": 19.5, "64qam-3/4": 21.0, "64qam-5/6": 22.5}


class MCSError(ValueError):
    """An MCS name or index this table does not have."""


@dataclass(frozen=True)
class MCS:
    index: int
    name: str
    bits: int            # bits per QAM symbol
    rate: str            # LDPC rate, "1/2", "2/3", "3/4", "5/6"

    @property
    def r(self) -> float:
        a, b = self.rate.split("/")
        return int(a) / int(b)

    @property
    def k(self) -> int:
        """Information bits per codeword."""
        return int(round(N_CODE * self.r))

    @property
    def symbols_per_codeword(self) -> int:
        return N_CODE // self.bits

    @property
    def bits_per_symbol(self) -> float:
        return self.bits * self.r


TABLE = (
    MCS(0, "bpsk-1/2", 1, "1/2"),
    MCS(1, "qpsk-1/2", 2, "1/2"),
    MCS(2, "qpsk-3/4", 2, "3/4"),
    MCS(3, "16qam-1/2", 4, "1/2"),
    MCS(4, "16qam-3/4", 4, "3/4"),
    MCS(5, "64qam-2/3", 6, "2/3"),
    MCS(6, "64qam-3/4", 6, "3/4"),
    MCS(7, "64qam-5/6", 6, "5/6"),
)
NAMES = tuple(m.name for m in TABLE)


def by_name(name: str) -> MCS:
    for m in TABLE:
        if m.name == name:
            return m
    raise MCSError(f"unknown MCS {name!r}; known: {', '.join(NAMES)} (or auto)")


def by_index(index: int) -> MCS:
    if not 0 <= index < len(TABLE):
        raise MCSError(f"unknown MCS index {index} (this table has 0..{len(TABLE) - 1}: "
                       + ", ".join(f"{m.index} {m.name}" for m in TABLE) + ")")
    return TABLE[index]


def check_scheme(scheme: str, mcs: str) -> str:
    """The command line's ``--scheme``/``--mcs`` -> "" (JSCC), ``auto`` or an MCS name
    (``--scheme digital`` without ``--mcs`` means ``auto``); MCSError names what is wrong."""
    if scheme not in ("jscc", "digital"):
        raise MCSError(f"unknown scheme {scheme!r}; one of jscc, digital")
    if scheme == "jscc":
        if mcs:
            raise MCSError("--mcs needs --scheme digital")
        return ""
    if not mcs or mcs == "auto":
        return "auto"
    return by_name(mcs).name


def check_header(keep: int, channels: int, lat_w: int) -> MCS:
    """The MCS of a digital header's fields, or MCSError naming what is wrong."""
    if channels != len(TABLE):
        raise MCSError(f"digital frame from an MCS table of {channels} entries, this receiver "
                       f"has {len(TABLE)} ({', '.join(NAMES)})")
    if lat_w not in CODECS:
        raise MCSError(f"digital frame with unknown image codec {lat_w} (known: "
                       + ", ".join(f"{k} = {v}" for k, v in CODECS.items()) + ")")
    return by_index(keep - 1)


def thresholds(path: Path | None = None) -> dict[str, float]:
    """Per MCS name, the SNR (dB, product convention) where its codeword loss through the PHY
    is 1%: measured (``semcom/fec/thresholds.json``, with the command that measured it), or
    :data:`NOMINAL_DB` where that file has no entry."""
    out = dict(NOMINAL_DB)
    p = path or THRESHOLDS
    if p.is_file():
        out.update({k: float(v) for k, v in json.loads(p.read_text())["threshold_db"].items()
                    if k in NOMINAL_DB})
    return out


def frame_codewords(n_codewords: int, frame_count: int, frame_idx: int) -> range:
    """The codewords frame ``frame_idx`` carries: contiguous, the first ``n % count`` frames
    one more than the rest."""
    base, extra = divmod(n_codewords, frame_count)
    start = frame_idx * base + min(frame_idx, extra)
    return range(start, start + base + (frame_idx < extra))


# -- Gray QAM -------------------------------------------------------------------------------
def _pam(bits_per_axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Levels (ascending, unnormalised) and, per level, its Gray label bits (MSB first)."""
    n = 1 << bits_per_axis
    idx = np.arange(n)
    gray = idx ^ (idx >> 1)                   # label of level idx
    labels = (gray[:, None] >> np.arange(bits_per_axis - 1, -1, -1)) & 1
    return (2 * idx - (n - 1)).astype(np.float64), labels.astype(np.uint8)


def constellation(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """All points (unit average energy) and their labels (bits MSB first; the first half of
    the bits picks the I level, the second half the Q level; BPSK: bit 0 -> +1)."""
    if bits == 1:
        return np.array([1.0, -1.0], complex), np.array([[0], [1]], np.uint8)
    lv, lab = _pam(bits // 2)
    norm = np.sqrt(2 * (len(lv) ** 2 - 1) / 3)
    i, q = np.meshgrid(np.arange(len(lv)), np.arange(len(lv)), indexing="ij")
    pts = (lv[i] + 1j * lv[q]).ravel() / norm
    labels = np.concatenate([lab[i.ravel()], lab[q.ravel()]], axis=1)
    return pts, labels


def modulate(bits: np.ndarray, m: int) -> np.ndarray:
    """uint8 bits (a multiple of ``m``) -> complex64 Gray QAM symbols of unit average energy."""
    b = np.asarray(bits, np.uint8).reshape(-1, m)
    if m == 1:
        return (1.0 - 2.0 * b[:, 0]).astype(np.complex64)
    h = m // 2
    lv, _ = _pam(h)
    w = 1 << np.arange(h - 1, -1, -1)
    gi, gq = b[:, :h] @ w, b[:, h:] @ w
    # Gray label -> level index: binary = prefix XOR of the Gray bits
    ii, qq = gi.copy(), gq.copy()
    shift = 1
    while shift < h:
        ii ^= ii >> shift
        qq ^= qq >> shift
        shift <<= 1
    norm = np.sqrt(2 * (len(lv) ** 2 - 1) / 3)
    return ((lv[ii] + 1j * lv[qq]) / norm).astype(np.complex64)


def llr(y: np.ndarray, noise_var: np.ndarray, m: int) -> np.ndarray:
    """Max-log LLRs ``log P(b=0|y) / P(b=1|y)`` (positive: bit 0) of equalised symbols ``y``
    whose complex noise variance is ``noise_var`` (per symbol): per bit, (the smallest squared
    distance to a point labelled 1 minus that to a point labelled 0) / noise_var. Square Gray
    QAM separates into I and Q, each axis carrying noise_var / 2. -> float32 (len(y) * m,)."""
    y = np.asarray(y, np.complex64)
    nv = np.maximum(np.asarray(noise_var, np.float64), 1e-12)
    if m == 1:
        return (4.0 * y.real / nv).astype(np.float32)
    h = m // 2
    lv, lab = _pam(h)
    lv = lv / np.sqrt(2 * (len(lv) ** 2 - 1) / 3)
    out = np.empty((len(y), m), np.float32)
    for axis, comp in enumerate((y.real, y.imag)):
        d = (comp[:, None].astype(np.float64) - lv[None, :]) ** 2          # (n, L)
        for j in range(h):
            one = lab[:, j] == 1
            out[:, axis * h + j] = (d[:, one].min(1) - d[:, ~one].min(1)) / nv
    return out.reshape(-1)


def scrambler(n: int) -> np.ndarray:
    return np.random.default_rng(BIT_PN_SEED).integers(0, 2, n).astype(np.uint8)


def bit_permutation(n: int) -> np.ndarray:
    """The per-frame bit interleaver: coded bit ``perm[j]`` of the frame goes to position j."""
    return np.random.default_rng([BIT_IL_SEED, n]).permutation(n)


def crc16_bits(bits: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE (``binascii.crc_hqx``, init 0xFFFF, so that an all-zero row, what
    a decoder that gave up may return, never passes) of each row of bits (zero-padded to
    whole bytes) -> (rows, 16) bits, MSB first."""
    packed = np.packbits(np.asarray(bits, np.uint8), axis=1)
    crc = np.array([binascii.crc_hqx(row.tobytes(), 0xFFFF) for row in packed], np.uint32)
    return ((crc[:, None] >> np.arange(15, -1, -1)) & 1).astype(np.uint8)
