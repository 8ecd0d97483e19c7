"""``semcom tx``: its options (the run is :mod:`apps.tx`)."""

from __future__ import annotations

import argparse

from sdr_tx import rate_controller as rc
from semcom import numerology as nm
from semcom.cli import app_parser
from semcom.images import DEFAULT_MAX_SIDE
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", default="", help="image file or folder (default: held-out photos)")
    p.add_argument("--model", default="default", help="checkpoint name or path")
    p.add_argument("--tx-snr", type=float, default=10.0,
                   help="SNR (dB) the encoder is told (the TX never reads the channel)")
    p.add_argument("--keep", type=int, default=0, help="latent channels sent (0: all)")
    p.add_argument("--frame-symbols", type=int, default=nm.DEFAULT_FRAME_SYMBOLS)
    p.add_argument("--tx-rms", type=float, default=nm.DEFAULT_TX_RMS,
                   help="burst RMS as a fraction of full scale (complex magnitude 1.0: int16 "
                        "full scale on a radio; gr-iio's sink multiplies by 32768, its source "
                        "divides by 2048)")
    p.add_argument("--guard", type=int, default=nm.DEFAULT_GUARD)
    p.add_argument("--iq-out", default="tcp://127.0.0.1:5555", help="ZMQ address to connect to")
    p.add_argument("--file", default="", help="write cf32 IQ here instead of ZMQ")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE,
                   help="shrink larger images (0: keep)")
    p.add_argument("--samp-rate", type=float, default=DEFAULT_SAMP_RATE)
    p.add_argument("--log", default="", help="write per-image records here (JSON lines)")
    p.add_argument("--peer-timeout", type=float, default=15.0,
                   help="ZMQ: give up (exit 1) when no receiver is connected for this many "
                        "seconds (0: wait forever)")
    g = p.add_argument_group("adaptive pruning (closed loop on the RX's reports)")
    g.add_argument("--adaptive", action="store_true", help="pick keep per image from reports")
    g.add_argument("--policy", default=rc.DEFAULT_POLICY, choices=rc.POLICIES)
    g.add_argument("--target-psnr", type=float, default=rc.DEFAULT_TARGET_PSNR)
    g.add_argument("--margin-db", type=float, default=rc.DEFAULT_MARGIN_DB,
                   help="target policy: plan for an SNR this much below the estimate")
    g.add_argument("--budget-symbols", type=int, default=0, help="JSCC symbols per image")
    g.add_argument("--feedback", default="tcp://127.0.0.1:5558",
                   help="bind: the RX's reports arrive here")
    g.add_argument("--window", type=int, default=1,
                   help="images in flight ahead of the reports (adaptive; 1 = lock-step)")
    g.add_argument("--rate-table", default="",
                   help="rate-quality table (default: calibration/tables/<model hash>.json)")
    g.add_argument("--safe-keep", type=int, default=0, help="keep without reports (0: all)")
    g.add_argument("--feedback-timeout", type=float, default=rc.DEFAULT_FEEDBACK_TIMEOUT_S,
                   help="seconds without a report before falling back to --safe-keep")
    s = p.add_argument_group("payload scheme (issue 16)")
    s.add_argument("--scheme", default="jscc", choices=("jscc", "digital"),
                   help="jscc: the model's analog symbols; digital: WebP + LDPC + QAM in the "
                        "default JSCC's full-keep air time")
    s.add_argument("--mcs", default="", metavar="NAME|auto",
                   help="digital: modulation and code rate, one of "
                        "bpsk-1/2, qpsk-1/2, qpsk-3/4, 16qam-1/2, 16qam-3/4, 64qam-2/3, "
                        "64qam-3/4, 64qam-5/6, or auto (default with --scheme digital: from the "
                        "RX's reports)")
    p.add_argument("--record", default="", metavar="DIR",
                   help="keep what was sent (latent symbols, side bits, image ids) in DIR: "
                        "the ground truth of a recording")
    p.add_argument("--force", action="store_true", help="--record into a folder not empty")
    from semcom import radio
    radio.add_arguments(p, "tx")


def add_parser(sub, name: str) -> None:
    import apps.tx

    app_parser(sub, name, apps.tx, "transmit images (TX flowgraph)", add_arguments)
