"""The digital scheme's TX side (issue 16): image -> WebP at the quality that fits the air-time
budget -> LDPC codewords (gr-fec, :mod:`semcom.ldpc`) -> per-frame bit scrambler and
interleaver -> Gray QAM -> frames (header + payload on the same PHY as a JSCC payload).

Air time per image equals the default JSCC model's at full keep, headers and side frame
included (:func:`jscc_budget`): the same number of bursts, and at most the same number of OFDM
symbols (preamble, header and payload symbols of every burst). :func:`plan` fits as many
whole codewords as that allows; :func:`fit_image` bisects the WebP quality so the file, with
its 4-byte length before it and CRC-32 after it, fits the codewords' data bits (each codeword
carries ``k - 16`` data bits and a CRC-16 of them, so the receiver knows which codewords it
lost). An image whose lowest quality does not fit is halved in size until it does (the
receiver scales it back to ``img_h x img_w``).
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from semcom import interleave, ldpc, mcs, sideinfo
from semcom import numerology as nm

OVERHEAD_SYMBOLS = nm.N_SYNC_SYMBOLS + nm.HEADER_SYMBOLS     # OFDM symbols per burst
CRC_BITS = mcs.CRC_BITS
MAX_CODEWORDS = 4095                                         # lat_h has 12 bits


@dataclass(frozen=True)
class Budget:
    ofdm_symbols: int      # OFDM symbols of all bursts of one image (preamble, header, payload)
    bursts: int

    @property
    def channel_symbols(self) -> int:
        """The same air time in data-carrier symbols (48 per OFDM symbol)."""
        return self.ofdm_symbols * nm.N_DATA


def budget_for(n_symbols: int, side_symbols: int = 0,
               frame_symbols: int = nm.DEFAULT_FRAME_SYMBOLS) -> Budget:
    """The air time of a JSCC image of ``n_symbols`` symbols (and a side frame of
    ``side_symbols``) framed as :class:`sdr_tx.framer.Framer` frames it."""
    count = interleave.n_frames(n_symbols, frame_symbols)
    base, extra = divmod(n_symbols, count)
    lens = [base + (i < extra) for i in range(count)]
    ofdm = sum(OVERHEAD_SYMBOLS + -(-n // nm.N_DATA) for n in lens)
    bursts = count
    if side_symbols:
        ofdm += OVERHEAD_SYMBOLS + -(-side_symbols // nm.N_DATA)
        bursts += 1
    return Budget(ofdm, bursts)


def jscc_budget(codec, height: int, width: int,
                frame_symbols: int = nm.DEFAULT_FRAME_SYMBOLS) -> Budget:
    """Air time of ``codec`` (a :class:`models.codec.JSCCCodec`) at full keep for one image."""
    return budget_for(codec.symbols_for(codec.C, height, width),
                      sideinfo.n_symbols(codec.side_bits), frame_symbols)


def frame_ofdm_symbols(n_codewords: int, frame_count: int, m: mcs.MCS) -> int:
    return sum(OVERHEAD_SYMBOLS + -(-len(mcs.frame_codewords(n_codewords, frame_count, i))
                                    * m.symbols_per_codeword // nm.N_DATA)
               for i in range(frame_count))


def plan(budget: Budget, m: mcs.MCS) -> int:
    """The most whole codewords of ``m`` that ``budget.bursts`` frames carry in at most
    ``budget.ofdm_symbols`` OFDM symbols."""
    room = (budget.ofdm_symbols - budget.bursts * OVERHEAD_SYMBOLS) * nm.N_DATA
    n = min(MAX_CODEWORDS, max(0, room // m.symbols_per_codeword))
    while n > 0 and frame_ofdm_symbols(n, budget.bursts, m) > budget.ofdm_symbols:
        n -= 1
    per_frame = -(-n // budget.bursts) * m.symbols_per_codeword if n else 0
    if per_frame > 65535:
        raise ValueError(f"{per_frame} symbols in one frame (> 65535)")
    return n


def data_bytes(n_codewords: int, m: mcs.MCS) -> int:
    """Bytes of file (after its 4-byte length and before its CRC-32) that fit."""
    return n_codewords * (m.k - CRC_BITS) // 8 - 8


def webp(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="WEBP", quality=quality, method=4)
    return buf.getvalue()


def fit_image(image: np.ndarray, max_bytes: int) -> tuple[bytes, int, int]:
    """The best WebP of ``image`` within ``max_bytes``: (file, quality, downscale factor).
    Raises ValueError when even a 16x smaller image at quality 0 does not fit."""
    img, scale = np.ascontiguousarray(image, np.uint8), 1
    while True:
        lo, hi, best = 0, 100, None
        while lo <= hi:
            q = (lo + hi) // 2
            data = webp(img, q)
            if len(data) <= max_bytes:
                best, lo = (data, q), q + 1
            else:
                hi = q - 1
        if best is not None:
            return best[0], best[1], scale
        if scale >= 16 or min(img.shape[:2]) < 16:
            raise ValueError(f"the image does not fit {max_bytes} bytes at any WebP quality")
        scale *= 2
        h, w = image.shape[0] // scale, image.shape[1] // scale
        img = np.asarray(Image.fromarray(image).resize((w, h), Image.BICUBIC))


def pack(data: bytes, n_codewords: int, m: mcs.MCS) -> np.ndarray:
    """File -> the information bits of ``n_codewords`` codewords (n_codewords, k):
    [length 4 B][file][CRC-32 4 B][zeros], cut into rows of k - 16 bits, each with its CRC-16."""
    stream = len(data).to_bytes(4, "big") + data + \
        (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    bits = np.unpackbits(np.frombuffer(stream, np.uint8))
    per = m.k - CRC_BITS
    if bits.size > n_codewords * per:
        raise ValueError(f"{len(data)} bytes do not fit {n_codewords} codewords of {m.name}")
    rows = np.zeros(n_codewords * per, np.uint8)
    rows[:bits.size] = bits
    rows = rows.reshape(n_codewords, per)
    return np.concatenate([rows, mcs.crc16_bits(rows)], axis=1)


def modulate_frame(coded: np.ndarray, m: mcs.MCS) -> np.ndarray:
    """One frame's coded bits -> its QAM symbols: scramble, interleave, map."""
    coded = np.asarray(coded, np.uint8) ^ mcs.scrambler(coded.size)
    return mcs.modulate(coded[mcs.bit_permutation(coded.size)], m.bits)


@dataclass
class DigitalPayload:
    """One image's digital payload: per frame (index = frame_idx), its QAM symbols before the
    payload interleaver (:meth:`sdr_tx.framer.Framer.digital_frames` frames them)."""
    mcs: mcs.MCS
    n_codewords: int
    payloads: list
    file_bytes: int
    quality: int
    scale: int
    budget: Budget
    codec: int = mcs.CODEC_WEBP


def encode_payload(image: np.ndarray, m: mcs.MCS | str, budget) -> DigitalPayload:
    """Image -> :class:`DigitalPayload` within ``budget`` (a :class:`Budget` or a callable
    ``(height, width) -> Budget``)."""
    m = mcs.by_name(m) if isinstance(m, str) else m
    h, w = image.shape[:2]
    budget = budget(h, w) if callable(budget) else budget
    n_cw = plan(budget, m)
    if n_cw == 0:
        raise ValueError(f"the air-time budget holds no codeword of {m.name}")
    data, quality, scale = fit_image(image, data_bytes(n_cw, m))
    coded = ldpc.code(m.rate).encode(pack(data, n_cw, m).ravel()).reshape(n_cw, mcs.N_CODE)
    payloads = []
    for idx in range(budget.bursts):
        cws = mcs.frame_codewords(n_cw, budget.bursts, idx)
        payloads.append(modulate_frame(coded[cws.start:cws.stop].ravel(), m) if len(cws)
                        else np.zeros(0, np.complex64))
    return DigitalPayload(m, n_cw, payloads, len(data), quality, scale, budget)


@dataclass
class Encoded:
    frames: list                  # [(Header, complex64 vector)] as the framer makes them
    mcs: mcs.MCS
    n_codewords: int
    file_bytes: int
    quality: int
    scale: int
    budget: Budget

    @property
    def ofdm_symbols(self) -> int:
        return sum(OVERHEAD_SYMBOLS + -(-h.payload_len // nm.N_DATA) for h, _ in self.frames)


class DigitalEncoder:
    """Images -> digital frames (payload and framing in one call, for links and tests that
    do not run the TX blocks). ``budget``: a :class:`Budget`, or a callable
    ``(height, width) -> Budget`` (e.g. the default JSCC model's :func:`jscc_budget`)."""

    def __init__(self, budget, session: int = 0):
        from sdr_tx.framer import Framer

        self.budget = budget
        self.framer = Framer("00000000", 1, session=session)

    @property
    def session(self) -> int:
        return self.framer.session

    def encode(self, image: np.ndarray, image_id: int, m: mcs.MCS | str,
               tx_snr_db: float = 10.0) -> Encoded:
        p = encode_payload(image, m, self.budget)
        frames = self.framer.digital_frames(p, image_id, image.shape[:2], tx_snr_db)
        return Encoded(frames, p.mcs, p.n_codewords, p.file_bytes, p.quality, p.scale, p.budget)


# -- the encoder block's PDU (encoder -> framer) for a digital image --------------------------
SCHEME_KEY = "scheme"        # meta key: "digital" (absent: a JSCC latent PDU)


def to_pdu(meta, p: DigitalPayload, tx_snr_db: float):
    """A digital image's payload as the encoder block's output PDU: ``meta`` (the image PDU's
    meta, a pmt dict) plus ``scheme``, ``mcs``, ``n_codewords``, ``frame_lens``, ``codec``,
    ``file_bytes``, ``quality``, ``scale``, ``tx_snr_db``; the vector the frames' QAM symbols
    one after the other."""
    import pmt

    for k, v in ((SCHEME_KEY, pmt.intern("digital")), ("mcs", pmt.intern(p.mcs.name)),
                 ("n_codewords", pmt.from_long(p.n_codewords)),
                 ("frame_lens", pmt.init_s32vector(len(p.payloads),
                                                   [len(x) for x in p.payloads])),
                 ("codec", pmt.from_long(p.codec)), ("file_bytes", pmt.from_long(p.file_bytes)),
                 ("quality", pmt.from_long(p.quality)), ("scale", pmt.from_long(p.scale)),
                 ("tx_snr_db", pmt.from_double(float(tx_snr_db)))):
        meta = pmt.dict_add(meta, pmt.intern(k), v)
    flat = np.concatenate(p.payloads).astype(np.complex64) if p.payloads else \
        np.zeros(0, np.complex64)
    return pmt.cons(meta, pmt.init_c32vector(flat.size, flat))


def is_digital(meta) -> bool:
    import pmt

    v = pmt.dict_ref(meta, pmt.intern(SCHEME_KEY), pmt.PMT_NIL)
    return not pmt.is_null(v) and pmt.symbol_to_string(v) == "digital"


def from_pdu(msg) -> DigitalPayload:
    """The framer's side of :func:`to_pdu`."""
    import pmt

    meta = pmt.car(msg)

    def get(k):
        return pmt.to_python(pmt.dict_ref(meta, pmt.intern(k), pmt.PMT_NIL))

    lens = [int(x) for x in pmt.s32vector_elements(
        pmt.dict_ref(meta, pmt.intern("frame_lens"), pmt.PMT_NIL))]
    flat = np.asarray(pmt.c32vector_elements(pmt.cdr(msg)), np.complex64)
    if sum(lens) != flat.size:
        raise ValueError(f"digital PDU: frame lengths {sum(lens)} != {flat.size} symbols")
    parts = np.split(flat, np.cumsum(lens)[:-1]) if lens else []
    m = mcs.by_name(get("mcs"))
    return DigitalPayload(m, int(get("n_codewords")), parts, int(get("file_bytes")),
                          int(get("quality")), int(get("scale")), Budget(0, len(lens)),
                          int(get("codec")))
