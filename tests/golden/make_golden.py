"""Regenerate the air-interface golden vectors in this folder (a change of the frame format must
be a conscious one: run this, look at the diff, commit it with the change).

    python tests/golden/make_golden.py

Writes ``header.json`` (a fixed header's fields), ``header_bits.txt`` (its coded bits on the
air, '0'/'1', bit 0 -> BPSK +1) and ``burst.cf32`` + ``burst.json`` (the first burst the real
TX chain (image source -> encoder -> framer -> OFDM modulator) sends for a fixed image with the
shipped model, framer session 7: complex64 samples, its length, the settings).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SESSION = 7
FRAME_SYMBOLS = 480
IMAGE = (40, 60, 32, 48)          # astronaut crop: y, x, height, width
HEADER = dict(model_id=0x12345678, image_id=42, seq=1000, frame_idx=3, frame_count=9, keep=12,
              channels=32, lat_h=8, lat_w=12, img_h=32, img_w=48, payload_len=480,
              tx_snr=80, flags=0, session=SESSION)


def header_bits() -> np.ndarray:
    from semcom.header import Header, encode_header

    sym = encode_header(Header(**HEADER))
    return (np.real(sym) < 0).astype(np.uint8)


def first_burst() -> np.ndarray:
    import skimage.data
    from gnuradio import blocks, gr
    from PIL import Image

    from sdr_tx.framer_block import jscc_framer
    from sdr_tx.image_source import image_source
    from sdr_tx.jscc_encoder import jscc_encoder
    from sdr_tx.ofdm_modulator import ofdm_modulator

    y, x, h, w = IMAGE
    with tempfile.TemporaryDirectory() as d:
        Image.fromarray(np.ascontiguousarray(skimage.data.astronaut()[y:y + h, x:x + w])).save(
            Path(d) / "img.png")
        tb = gr.top_block()
        src = image_source(str(Path(d) / "img.png"))
        enc = jscc_encoder("default", snr_db=10.0, keep=0)
        fr = jscc_framer(FRAME_SYMBOLS, session=SESSION)
        mod = ofdm_modulator(guard=64)
        snk = blocks.vector_sink_c()
        tb.msg_connect(src, "images", enc, "images")
        tb.msg_connect(enc, "symbols", fr, "symbols")
        tb.connect(fr, mod, snk)
        tb.run()
        out = np.asarray(snk.data(), np.complex64)
    nz = np.flatnonzero(np.abs(out) > 0)
    gaps = np.flatnonzero(np.diff(nz) > 32)
    end = nz[gaps[0]] + 1 if gaps.size else nz[-1] + 1
    return out[nz[0]:end]


def main() -> int:
    (HERE / "header.json").write_text(json.dumps(HEADER, indent=1) + "\n")
    (HERE / "header_bits.txt").write_text("".join(map(str, header_bits())) + "\n")
    burst = first_burst()
    burst.tofile(HERE / "burst.cf32")
    from models.checkpoint import peek
    (HERE / "burst.json").write_text(json.dumps(
        {"samples": int(burst.size), "model_hash": peek("default")["model_hash"],
         "image": dict(zip(("y", "x", "height", "width"), IMAGE, strict=True)),
         "session": SESSION, "frame_symbols": FRAME_SYMBOLS, "snr_db": 10.0}, indent=1) + "\n")
    print(f"wrote {HERE}: header {len(header_bits())} bits, burst {burst.size} samples")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    sys.exit(main())
