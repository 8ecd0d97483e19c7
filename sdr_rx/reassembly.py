"""Reassembly: frames of an image -> its latent, zero-filled where frames were lost.

Frames carry ``session`` and ``image_id`` (an image is keyed by both, so a restarted TX
never mixes with the last run), ``frame_idx`` of ``frame_count``, ``keep`` and the latent shape;
frame ``i`` holds flat positions ``i::frame_count`` (:mod:`semcom.interleave`). An image is
released when all its frames arrived, when a frame of another image arrives (images are sent
in order: the older one is released as partial), after ``timeout_s`` without its frames, or at
``flush()``. Duplicates (same image and frame index) are dropped and counted. A side frame
(header flag ``FLAG_SIDE``) carries the image's side information; with ``needs_side`` an image
is complete only with it. Headers are vetted against the model before they get here
(:meth:`sdr_rx.jscc_decoder.jscc_decoder.check_header`); a frame inconsistent with its image's
other frames is dropped and counted (``frames_rejected``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from semcom import interleave, sideinfo


@dataclass
class Assembly:
    session: int
    image_id: int
    keep: int
    lat_h: int
    lat_w: int
    img_h: int
    img_w: int
    channels: int
    frame_count: int
    tx_snr_db: float
    symbols: np.ndarray
    noise_var: np.ndarray
    needs_side: bool = False
    side: tuple | None = None          # (symbols, noise_var) of the side frame
    received: set = field(default_factory=set)
    snr_lin: list = field(default_factory=list)
    first_seen: float = 0.0
    last_seen: float = 0.0

    @property
    def complete(self) -> bool:
        return len(self.received) == self.frame_count and \
            (self.side is not None or not self.needs_side)

    @property
    def snr_db(self) -> float:
        return float(10 * np.log10(np.mean(self.snr_lin))) if self.snr_lin else float("nan")

    @property
    def snr_or_tx_db(self) -> float:
        """The frames' mean SNR estimate, or the SNR the encoder was told when none is known."""
        return self.snr_db if np.isfinite(self.snr_db) else self.tx_snr_db

    def side_info(self, n_bits: int) -> np.ndarray | None:
        """The decoded side-information bits (None for a model without side information);
        raises ``semcom.sideinfo.SideInfoError`` when the side frame is missing or corrupt."""
        if not n_bits:
            return None
        if self.side is None:
            raise sideinfo.SideInfoError("side frame not received")
        return sideinfo.decode(self.side[0], self.side[1], n_bits)

    def latent(self) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.keep, self.lat_h, self.lat_w)
        return self.symbols.reshape(shape), self.noise_var.reshape(shape)


class PendingImages:
    """Images being assembled, keyed by (session, image id): the counting, release and
    time-out shared by the JSCC reassembler below and the digital one
    (:class:`sdr_rx.digital_decoder.DigitalReassembler`)."""

    def __init__(self, timeout_s: float = 2.0, log=None):
        self.timeout_s = timeout_s
        self.pending: dict[tuple[int, int], object] = {}
        self.log = log

    def _count(self, name: str) -> None:
        if self.log:
            self.log.count(name)

    def _release_others(self, key: tuple[int, int]) -> list:
        """A frame of image ``key`` releases every other pending image (frames of one image
        arrive together)."""
        released = [a for k, a in list(self.pending.items()) if k != key]
        for a in released:
            del self.pending[(a.session, a.image_id)]
        return released

    def expire(self, now: float | None = None) -> list:
        now = time.monotonic() if now is None else now
        old = [a for a in self.pending.values() if now - a.last_seen > self.timeout_s]
        for a in old:
            del self.pending[(a.session, a.image_id)]
        return old

    def flush(self) -> list:
        out = list(self.pending.values())
        self.pending.clear()
        return out


class Reassembler(PendingImages):
    def __init__(self, timeout_s: float = 2.0, log=None, needs_side: bool = False):
        super().__init__(timeout_s, log)
        self.needs_side = needs_side

    def add(self, frame, now: float | None = None) -> list[Assembly]:
        """Add a decoded frame; returns the images released by it."""
        now = time.monotonic() if now is None else now
        h = frame.header
        key = (h.session, h.image_id)
        released = self._release_others(key)
        asm = self.pending.get(key)
        if asm is not None and (asm.frame_count, asm.keep, asm.lat_h, asm.lat_w) != \
                (h.frame_count, h.keep, h.lat_h, h.lat_w):
            released.append(self.pending.pop(key))   # same id, new image: release old
            asm = None
        if asm is None:
            n = h.keep * h.lat_h * h.lat_w
            asm = Assembly(h.session, h.image_id, h.keep, h.lat_h, h.lat_w, h.img_h, h.img_w,
                           h.channels, h.frame_count, h.tx_snr_db, np.zeros(n, np.complex64),
                           np.ones(n, np.float32), needs_side=self.needs_side, first_seen=now)
            self.pending[key] = asm
        if h.is_side:
            if asm.side is not None:
                self._count("duplicates")
                return released
            asm.side = (np.asarray(frame.symbols), np.asarray(frame.noise_var))
        else:
            if h.frame_idx in asm.received:
                self._count("duplicates")
                return released
            idx = interleave.frame_indices(asm.symbols.size, asm.frame_count, h.frame_idx)
            if idx.size != h.payload_len or len(frame.symbols) != idx.size:
                self._count("frames_rejected")   # inconsistent with the image's other frames
                return released
            asm.symbols[idx] = frame.symbols
            asm.noise_var[idx] = frame.noise_var
            asm.received.add(h.frame_idx)
        asm.snr_lin.append(10 ** (frame.snr_db / 10))
        asm.last_seen = now
        if asm.complete:
            released.append(self.pending.pop(key))
        return released
