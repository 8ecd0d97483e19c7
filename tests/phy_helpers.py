"""Shared helpers for the PHY tests: a tiny checkpoint, test images, TX and RX top blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from gnuradio import blocks, channels, gr
from PIL import Image

from models import create
from models.checkpoint import save_checkpoint
from semcom import numerology as nm


def tiny_checkpoint(path: Path, seed: int = 0) -> Path:
    """An untrained afjscc checkpoint: the PHY does not care how good the model is."""
    torch.manual_seed(seed)
    save_checkpoint(create("afjscc"), path, {"data": "test"})
    return path


def test_images(folder: Path, n: int = 2, size=(64, 96)) -> Path:
    import skimage.data

    folder.mkdir(parents=True, exist_ok=True)
    src = skimage.data.astronaut()
    for i in range(n):
        y, x = 40 * i, 60 * i
        Image.fromarray(np.ascontiguousarray(src[y:y + size[0], x:x + size[1]])).save(
            folder / f"img{i}.png")
    return folder


def tx_samples(run_flowgraph, images: Path, model: Path, frame_symbols: int = 480,
               keep: int = 0, guard: int = nm.DEFAULT_GUARD) -> np.ndarray:
    """Run the TX chain (source -> encoder -> framer -> modulator) into a vector sink."""
    from sdr_tx.framer_block import jscc_framer
    from sdr_tx.image_source import image_source
    from sdr_tx.jscc_encoder import jscc_encoder
    from sdr_tx.ofdm_modulator import ofdm_modulator

    tb = gr.top_block()
    src = image_source(str(images))
    enc = jscc_encoder(str(model), snr_db=10.0, keep=keep)
    fr = jscc_framer(frame_symbols)
    mod = ofdm_modulator(guard=guard)
    snk = blocks.vector_sink_c()
    tb.msg_connect(src, "images", enc, "images")
    tb.msg_connect(enc, "symbols", fr, "symbols")
    tb.connect(fr, mod, snk)
    run_flowgraph(tb, timeout=60)
    return np.asarray(snk.data(), dtype=np.complex64)


def through_channel(run_flowgraph, x: np.ndarray, snr_db: float, cfo_hz: float = 0.0,
                    epsilon: float = 1.0, taps=(1.0,), seed: int = 3, lead: int = 500):
    """GNU Radio's channel_model with noise in the product's SNR convention."""
    tb = gr.top_block()
    x = np.concatenate([np.zeros(lead, np.complex64), x, np.zeros(lead, np.complex64)])
    src = blocks.vector_source_c(x.tolist())
    ch = channels.channel_model(nm.noise_voltage_for_snr(snr_db), cfo_hz / 1e6, epsilon,
                                list(taps), seed)
    snk = blocks.vector_sink_c()
    tb.connect(src, ch, snk)
    run_flowgraph(tb, timeout=60)
    return np.asarray(snk.data(), dtype=np.complex64)


def rx_run(run_flowgraph, y: np.ndarray, model: Path, model_id: str = "", reference="",
           out_dir: str = "", log_path: str = ""):
    """RX top block: vector source -> ofdm_receiver -> (msg) jscc_decoder."""
    from sdr_rx.jscc_decoder import jscc_decoder
    from sdr_rx.ofdm_receiver import ofdm_receiver

    tb = gr.top_block()
    src = blocks.vector_source_c(y.tolist())
    rcv = ofdm_receiver(1e6, model_id, log_path)
    dec = jscc_decoder(str(model), out_dir)
    dec.attach(log=rcv.log, reference=reference)
    tb.connect(src, rcv)
    tb.msg_connect(rcv, "frames", dec, "frames")
    run_flowgraph(tb, timeout=60)
    for frame in rcv.rx.drain():
        dec.add_frame(frame)
    dec.flush()
    return rcv, dec


def burst_starts(x: np.ndarray, quiet: int = 64) -> np.ndarray:
    """First sample of each burst: nonzero after at least ``quiet`` zero samples."""
    nz = np.abs(x) > 0
    idx = np.flatnonzero(nz)
    gaps = np.diff(idx) > quiet
    return np.concatenate([[idx[0]], idx[1:][gaps]])
