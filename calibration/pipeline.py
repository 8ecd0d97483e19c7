"""The real PHY and channel emulator in one process, for calibration sweeps and benchmarks.

``PhyLink.send(image, keep, tx_snr_db, snr_db)`` runs one image through the TX framer and the
GNU Radio OFDM modulator, the channel emulator's core (AWGN in the product convention, plus
any other impairment), the OFDM receiver and reassembly, and the decoder at the receiver's own
SNR estimate; it returns the received image, the frames' SNR estimates and counts. This is the
code the processes run, without the sockets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gnuradio import blocks, gr

from channel import ChannelCore, Settings
from models.codec import JSCCCodec
from models.metrics import psnr, ssim
from sdr_rx.framelog import FrameLog
from sdr_rx.reassembly import Reassembler
from sdr_rx.stream_receiver import StreamReceiver
from sdr_tx.framer import Framer
from sdr_tx.ofdm_modulator import ofdm_modulator
from semcom import numerology as nm
from semcom.sideinfo import SideInfoError


@dataclass
class Received:
    image: np.ndarray | None
    est_snr_db: float
    frame_snrs: list[float]
    frames_sent: int
    frames_received: int
    symbols: int
    psnr_db: float
    ssim: float


def tagged_source(vectors: list[np.ndarray]):
    """A vector source of the frames with a length tag on each frame's first symbol."""
    import pmt
    from gnuradio.gr import tag_utils

    tags, off = [], 0
    for v in vectors:
        tags.append(tag_utils.python_to_tag((off, pmt.intern(nm.LEN_TAG),
                                             pmt.from_long(len(v)), pmt.PMT_F)))
        off += len(v)
    return blocks.vector_source_c(np.concatenate(vectors), False, 1, tags)


def modulate(vectors: list[np.ndarray]) -> np.ndarray:
    """Frames (header + payload vectors) -> IQ through the TX's OFDM modulator."""
    tb = gr.top_block()
    src = tagged_source(vectors)
    mod = ofdm_modulator()
    snk = blocks.vector_sink_c()
    tb.connect(src, mod, snk)
    tb.run()
    return np.asarray(snk.data(), dtype=np.complex64)


class PhyLink:
    def __init__(self, codec: JSCCCodec, seed: int = 0, settings: dict | None = None,
                 frame_symbols: int = nm.DEFAULT_FRAME_SYMBOLS):
        self.codec = codec
        self.framer = Framer(codec.model_hash, codec.C, frame_symbols)
        self.core = ChannelCore(Settings(**(settings or {})), seed=seed)
        self.rx = StreamReceiver(log=FrameLog())
        self.image_id = 0

    def send(self, image: np.ndarray, keep: int, tx_snr_db: float, snr_db: float,
             with_ssim: bool = False) -> Received:
        z, side_bits = self.codec.encode_side(image, tx_snr_db, keep)
        n_sym = self.codec.symbols_for(keep, *image.shape[:2])
        frames = self.framer.frames(z, self.image_id, image.shape[:2],
                                    self.codec.encoder_snr(tx_snr_db), side_bits)
        self.image_id += 1
        x = modulate([v for _, v in frames])
        self.core.request({"snr_db": snr_db})
        y = self.core.process(np.concatenate([x, np.zeros(nm.SYM_LEN * 4, np.complex64)]))
        got = self.rx.push(y)
        reasm = Reassembler(needs_side=self.codec.side_bits > 0)
        done = []
        for f in got:
            done += reasm.add(f)
        done += reasm.flush()
        snrs = [f.snr_db for f in got]
        side = None
        if done:
            try:
                side = done[-1].side_info(self.codec.side_bits)
            except SideInfoError:
                done = []                  # without its side information the image is lost
        if not done:
            grey = np.full_like(image, 128)
            return Received(None, float("nan"), snrs, len(frames), 0, n_sym,
                            psnr(image, grey), ssim(image, grey) if with_ssim else float("nan"))
        a = done[-1]
        sym, nv = a.latent()
        out = self.codec.decode(sym, image.shape[:2], a.snr_db, a.keep, nv, side,
                                tx_snr_db=a.tx_snr_db)
        return Received(out, a.snr_db, snrs, len(frames), len(a.received), n_sym,
                        psnr(image, out), ssim(image, out) if with_ssim else float("nan"))
