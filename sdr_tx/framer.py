"""Framer: one encoded image -> frames of (header BPSK symbols + interleaved payload).

Input: complex64 symbols ``(keep, lat_h, lat_w)`` (the sent latent channels) and the image's
identity, and the side-information bits of models that have them; output: a list of ``(Header,
complex64 vector)`` where the vector holds the 960 header symbols followed by the frame's
payload, zero-padded to whole OFDM symbols (48 per symbol). With side information, the first
frame is the side frame (flag ``FLAG_SIDE``, :mod:`semcom.sideinfo`), then the payload frames.
The OFDM modulator adds preamble and pilots.
"""

from __future__ import annotations

import secrets

import numpy as np

from semcom import interleave, sideinfo
from semcom.header import FLAG_SIDE, SCHEME_DIGITAL, Header, encode_header, model_id_from_hash
from semcom.numerology import DEFAULT_FRAME_SYMBOLS, N_DATA


class Framer:
    def __init__(self, model_hash: str, channels: int,
                 frame_symbols: int = DEFAULT_FRAME_SYMBOLS, session: int = 0):
        """``session``: the run id in every header (1..255; 0 draws one at random)."""
        if frame_symbols < N_DATA or frame_symbols > 65535:
            raise ValueError(f"frame_symbols must be in {N_DATA}..65535, got {frame_symbols}")
        self.model_id = model_id_from_hash(model_hash)
        self.channels = channels
        self.frame_symbols = frame_symbols
        self.seq = 0
        if not 0 <= session <= 255:
            raise ValueError(f"session must be in 0..255, got {session}")
        self.session = session or 1 + secrets.randbelow(255)

    def frames(self, symbols: np.ndarray, image_id: int, img_size: tuple[int, int],
               tx_snr_db: float, side: np.ndarray | None = None
               ) -> list[tuple[Header, np.ndarray]]:
        keep, lat_h, lat_w = symbols.shape
        flat = np.ascontiguousarray(symbols, dtype=np.complex64).reshape(-1)
        count = interleave.n_frames(flat.size, self.frame_symbols)
        if count > 255:
            raise ValueError(f"image needs {count} frames (> 255): raise --frame-symbols")
        parts = [(0, idx, part) for idx, part in enumerate(interleave.split(flat, count))]
        if side is not None:
            parts.insert(0, (FLAG_SIDE, 0, sideinfo.encode(side)))
        out = []
        for flags, idx, part in parts:
            payload = interleave.interleave(part)
            h = Header(model_id=self.model_id, image_id=image_id & 0xFFFF,
                       seq=self.seq & 0xFFFF, frame_idx=idx, frame_count=count, keep=keep,
                       channels=self.channels, lat_h=lat_h, lat_w=lat_w, img_h=img_size[0],
                       img_w=img_size[1], payload_len=payload.size,
                       tx_snr=Header.quantise_snr(tx_snr_db), flags=flags,
                       session=self.session)
            self.seq += 1
            pad = (-payload.size) % N_DATA
            vec = np.concatenate([encode_header(h), payload,
                                  np.zeros(pad, np.complex64)]).astype(np.complex64)
            out.append((h, vec))
        return out

    def digital_frames(self, payload, image_id: int, img_size: tuple[int, int],
                       tx_snr_db: float) -> list[tuple[Header, np.ndarray]]:
        """Frames of a digital image (:class:`sdr_tx.digital_encoder.DigitalPayload`): the
        header fields as ``docs/header.md`` (digital frames) defines them, the scheme in
        ``flags``, each frame's QAM symbols through the payload interleaver."""
        from semcom import mcs

        m = payload.mcs
        out = []
        for idx, part in enumerate(payload.payloads):
            if not len(part):
                continue                  # fewer codewords than bursts: nothing to send
            part = interleave.interleave(np.asarray(part, np.complex64))
            h = Header(model_id=mcs.DIGITAL_ID, image_id=image_id & 0xFFFF,
                       seq=self.seq & 0xFFFF, frame_idx=idx, frame_count=len(payload.payloads),
                       keep=m.index + 1, channels=len(mcs.TABLE), lat_h=payload.n_codewords,
                       lat_w=payload.codec, img_h=img_size[0], img_w=img_size[1],
                       payload_len=part.size, tx_snr=Header.quantise_snr(tx_snr_db),
                       flags=Header.scheme_flags(SCHEME_DIGITAL), session=self.session)
            self.seq += 1
            pad = (-part.size) % N_DATA
            out.append((h, np.concatenate([encode_header(h), part,
                                           np.zeros(pad, np.complex64)]).astype(np.complex64)))
        return out
