"""The digital scheme's RX side (issue 16): frames with header scheme 1 -> the image.

Per frame: the equaliser's output and per-symbol noise variance -> max-log LLRs
(:func:`semcom.mcs.llr`) -> bit deinterleaver and descrambler -> the frame's codewords.
Per image (:class:`DigitalReassembler` keys frames by session and image id and releases an
image when all its codewords arrived, when a frame of another image arrives, after
``timeout_s`` or at ``flush()``): every received codeword through gr-fec's LDPC decoder
(:mod:`semcom.ldpc`), each codeword's CRC-16 checked, then the file's length and CRC-32, then
WebP. A codeword that is missing (its frame lost) or fails its CRC loses the image (WebP has no
decodable prefix): the result says so (``lost``, ``cause``: ``frames_lost``,
``codeword_crc``, ``file_crc`` or ``codec``) and counts the codewords; bad input never raises.
The receiver's decoder block stops at an image's first failed block of 16 codewords
(``stop_early``; its later codewords then count as lost too): a 64-QAM 5/6 image lost at
12 dB took 174 ms of decoding instead of 1355 ms (256x256, 116 codewords; 31 ms when it
decodes at 25 dB).
"""

from __future__ import annotations

import io
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from sdr_rx.reassembly import PendingImages
from semcom import ldpc, mcs
from semcom.header import Header


@dataclass
class DigitalAssembly:
    session: int
    image_id: int
    mcs: mcs.MCS
    n_codewords: int
    frame_count: int
    img_h: int
    img_w: int
    tx_snr_db: float
    frames: dict = field(default_factory=dict)      # frame_idx -> (symbols, noise_var)
    snr_lin: list = field(default_factory=list)
    last_seen: float = 0.0

    @property
    def expected_frames(self) -> int:
        return min(self.frame_count, self.n_codewords)

    @property
    def complete(self) -> bool:
        return len(self.frames) == self.expected_frames

    @property
    def snr_db(self) -> float:
        return float(10 * np.log10(np.mean(self.snr_lin))) if self.snr_lin else float("nan")


def check_header(h: Header) -> mcs.MCS:
    """The MCS of a digital frame's header, or :class:`semcom.mcs.MCSError` naming the field."""
    m = mcs.check_header(h.keep, h.channels, h.lat_w)
    if h.model_id != mcs.DIGITAL_ID:
        raise mcs.MCSError(f"digital frame of format {h.model_id:08x}, this receiver reads "
                           f"{mcs.DIGITAL_ID:08x}")
    if not 1 <= h.lat_h <= 4095:
        raise mcs.MCSError(f"digital frame for {h.lat_h} codewords (1..4095)")
    cws = mcs.frame_codewords(h.lat_h, h.frame_count, h.frame_idx)
    if h.payload_len != len(cws) * m.symbols_per_codeword:
        raise mcs.MCSError(f"digital frame payload {h.payload_len} symbols, {m.name} with "
                           f"{len(cws)} codewords needs {len(cws) * m.symbols_per_codeword}")
    if not (1 <= h.img_h <= 4096 and 1 <= h.img_w <= 4096):
        raise mcs.MCSError(f"image size {h.img_h}x{h.img_w} outside 1..4096")
    return m


class DigitalReassembler(PendingImages):
    """The digital scheme's frames per image (time-out and release as the JSCC reassembler)."""

    def add(self, frame, now: float | None = None) -> list[DigitalAssembly]:
        """A received frame (``header``, ``symbols``, ``noise_var``, ``snr_db``); returns the
        images it releases. A frame whose header is no valid digital header is dropped and
        counted (``frames_rejected``)."""
        now = time.monotonic() if now is None else now
        h = frame.header
        try:
            m = check_header(h)
        except mcs.MCSError:
            self._count("frames_rejected")
            return []
        key = (h.session, h.image_id)
        released = self._release_others(key)
        asm = self.pending.get(key)
        if asm is not None and (asm.mcs, asm.n_codewords, asm.frame_count) != \
                (m, h.lat_h, h.frame_count):
            released.append(self.pending.pop(key))
            asm = None
        if asm is None:
            asm = DigitalAssembly(h.session, h.image_id, m, h.lat_h, h.frame_count, h.img_h,
                                  h.img_w, h.tx_snr_db)
            self.pending[key] = asm
        if h.frame_idx in asm.frames:
            self._count("duplicates")
            return released
        sym, nv = np.asarray(frame.symbols), np.asarray(frame.noise_var)
        if len(sym) != h.payload_len or len(nv) != h.payload_len:
            self._count("frames_rejected")
            return released
        asm.frames[h.frame_idx] = (sym, nv)
        asm.snr_lin.append(10 ** (frame.snr_db / 10))
        asm.last_seen = now
        if asm.complete:
            released.append(self.pending.pop(key))
        return released


def frame_llrs(symbols: np.ndarray, noise_var: np.ndarray, m: mcs.MCS) -> np.ndarray:
    """One frame's equalised symbols -> the LLRs of its coded bits in codeword order
    (max-log demapping, bit deinterleaver, descrambler)."""
    lv = mcs.llr(symbols, noise_var, m.bits)
    out = np.empty_like(lv)
    out[mcs.bit_permutation(lv.size)] = lv
    return np.where(mcs.scrambler(out.size) == 1, -out, out)


@dataclass
class DigitalResult:
    image: np.ndarray | None
    lost: bool
    cause: str
    mcs: str
    codewords: int
    codewords_lost: int           # missing (frame lost) or failing their CRC-16
    codewords_missing: int
    file_bytes: int
    snr_db: float
    decode_ms: float
    codeword_ok: np.ndarray | None = None    # bool per codeword (False: missing or bad CRC)

    def to_dict(self) -> dict:
        return {"lost": self.lost, "cause": self.cause, "mcs": self.mcs,
                "codewords": self.codewords, "codewords_lost": self.codewords_lost,
                "codewords_missing": self.codewords_missing, "file_bytes": self.file_bytes,
                "snr_db": round(self.snr_db, 3) if np.isfinite(self.snr_db) else None,
                "decode_ms": round(self.decode_ms, 1)}


DECODE_BLOCK = 16      # codewords per gr-fec run with ``stop_early``


def decode_assembly(a: DigitalAssembly, stop_early: bool = False) -> DigitalResult:
    """A released image -> :class:`DigitalResult` (the image, or why it was lost).
    ``stop_early``: decode in blocks of :data:`DECODE_BLOCK` codewords and stop after the
    first block with a failed codeword (the image is lost either way; the codewords not
    decoded then count as lost)."""
    t0 = time.perf_counter()
    m, n = a.mcs, a.n_codewords
    llrs = np.zeros((n, mcs.N_CODE), np.float32)
    present = np.zeros(n, bool)
    for idx, (sym, nv) in a.frames.items():
        cws = mcs.frame_codewords(n, a.frame_count, idx)
        llrs[cws.start:cws.stop] = frame_llrs(sym, nv, m).reshape(len(cws), mcs.N_CODE)
        present[cws.start:cws.stop] = True
    info = np.zeros((n, m.k), np.uint8)
    ok = np.zeros(n, bool)
    idx = np.flatnonzero(present) if present.all() or not stop_early else np.zeros(0, int)
    step = DECODE_BLOCK if stop_early else max(1, idx.size)
    for i in range(0, idx.size, step):
        sel = idx[i:i + step]
        info[sel] = ldpc.code(m.rate).decode(llrs[sel].ravel()).reshape(-1, m.k)
        ok[sel] = (mcs.crc16_bits(info[sel, :m.k - mcs.CRC_BITS])
                   == info[sel, m.k - mcs.CRC_BITS:]).all(axis=1)
        if stop_early and not ok[sel].all():
            break
    data = info[:, :m.k - mcs.CRC_BITS]

    def result(image, cause, nbytes=0):
        return DigitalResult(image, image is None, cause, m.name, n, int((~ok).sum()),
                             int((~present).sum()), nbytes, a.snr_db,
                             1e3 * (time.perf_counter() - t0), ok)

    if not present.all():
        return result(None, "frames_lost")
    if not ok.all():
        return result(None, "codeword_crc")
    stream = np.packbits(data.ravel()).tobytes()
    length = int.from_bytes(stream[:4], "big")
    if length + 8 > len(stream):
        return result(None, "file_crc")
    body = stream[4:4 + length]
    if (zlib.crc32(body) & 0xFFFFFFFF) != int.from_bytes(stream[4 + length:8 + length], "big"):
        return result(None, "file_crc")
    try:
        img = Image.open(io.BytesIO(body))
        img = img.convert("RGB")
        if img.size != (a.img_w, a.img_h):
            img = img.resize((a.img_w, a.img_h), Image.BICUBIC)
        return result(np.asarray(img), "", length)
    except Exception:      # noqa: BLE001  (a corrupt file from the air must not kill the RX)
        return result(None, "codec", length)


def lost_result(a: DigitalAssembly, cause: str) -> DigitalResult:
    """A result for an image that could not be decoded at all."""
    return DigitalResult(None, True, cause, a.mcs.name, a.n_codewords, a.n_codewords,
                         a.n_codewords - sum(len(mcs.frame_codewords(
                             a.n_codewords, a.frame_count, i)) for i in a.frames),
                         0, a.snr_db, 0.0)


def record(a: DigitalAssembly, res: DigitalResult) -> dict:
    """The receiver's per-image record of a digital image (the JSCC record's keys, plus
    ``scheme``, ``mcs`` and the codeword counts)."""
    rec = {"session": a.session, "image_id": a.image_id, "scheme": "digital",
           "mcs": a.mcs.name, "keep": a.mcs.index + 1,
           "symbols": sum(int(s.size) for s, _ in a.frames.values()),
           "frames_received": len(a.frames), "frame_count": a.expected_frames,
           "partial": not a.complete, "est_snr_db": round(a.snr_db, 3)
           if np.isfinite(a.snr_db) else round(a.tx_snr_db, 3),
           "tx_snr_db": a.tx_snr_db, "decode_ms": round(res.decode_ms, 2),
           "codewords": res.codewords, "codewords_lost": res.codewords_lost,
           "height": a.img_h, "width": a.img_w, "t_decoded": time.time()}
    if res.lost:
        rec.update(lost=True, cause=res.cause)
    return rec
