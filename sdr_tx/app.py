"""``semcom tx``: run the TX flowgraph (``flowgraphs/semcom_tx.grc``) from the command line.

Images -> JSCC encoder -> framer -> OFDM modulator -> IQ sink: ZMQ (``--iq-out``, connects to
the channel emulator's or an RX's input) or a cf32 file (``--file``). Ends after the last image
(``--repeat`` passes) and prints what it sent.
"""

from __future__ import annotations

import argparse
import sys
import time

from semcom import numerology as nm


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", default="", help="image file or folder (default: held-out photos)")
    p.add_argument("--model", default="default", help="checkpoint name or path")
    p.add_argument("--tx-snr", type=float, default=10.0,
                   help="SNR (dB) the encoder is told (the TX never reads the channel)")
    p.add_argument("--keep", type=int, default=0, help="latent channels sent (0: all)")
    p.add_argument("--frame-symbols", type=int, default=nm.DEFAULT_FRAME_SYMBOLS)
    p.add_argument("--tx-rms", type=float, default=nm.DEFAULT_TX_RMS,
                   help="burst RMS as a fraction of full scale")
    p.add_argument("--guard", type=int, default=nm.DEFAULT_GUARD)
    p.add_argument("--iq-out", default="tcp://127.0.0.1:5555", help="ZMQ address to connect to")
    p.add_argument("--file", default="", help="write cf32 IQ here instead of ZMQ")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--max-side", type=int, default=256, help="shrink larger images (0: keep)")
    p.add_argument("--samp-rate", type=float, default=1e6)
    p.add_argument("--log", default="", help="write per-image records here (JSON lines)")


def run(args) -> int:
    from flowgraphs.semcom_tx import semcom_tx

    kind, addr = ("file", args.file) if args.file else ("zmq", args.iq_out)
    tb = semcom_tx(images=args.images, model=args.model, snr_db=args.tx_snr, keep=args.keep,
                   frame_symbols=args.frame_symbols, tx_rms=args.tx_rms, guard=args.guard,
                   sink_kind=kind, sink_address=addr, repeat=args.repeat,
                   max_side=args.max_side, samp_rate=args.samp_rate)
    t0 = time.monotonic()
    try:
        tb.start()
        tb.wait()
    except KeyboardInterrupt:
        print("tx: interrupted", file=sys.stderr)
        tb.stop()
        tb.wait()
    mod, fr = tb.modulator, tb.framer
    if args.log:
        import json
        frames = fr.frames_per_image
        with open(args.log, "w") as f:
            for rec in tb.encoder.sent:
                f.write(json.dumps({**rec, "frames": frames.get(rec["image_id"] & 0xFFFF, 0)})
                        + "\n")
            f.write(json.dumps({"samples": mod.total, "clipped": mod.clipped,
                                "model_hash": tb.encoder.model_hash}) + "\n")
    print(f"tx: {fr.images_sent} images, {fr.frames_sent} frames, {mod.total} samples "
          f"({mod.total / args.samp_rate:.2f} s of air time), {mod.clipped} clipped, "
          f"model {tb.encoder.model_hash}, {time.monotonic() - t0:.2f} s")
    return 0


def add_parser(sub, name: str) -> None:
    p = sub.add_parser(name, help="transmit images (TX flowgraph)",
                       description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)
