"""``semcom rx``: its options (the run is :mod:`apps.rx`)."""

from __future__ import annotations

import argparse

from semcom.cli import app_parser
from semcom.images import DEFAULT_MAX_SIDE
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iq-in", default="tcp://127.0.0.1:5556", help="ZMQ address to bind")
    p.add_argument("--file", default="", help="read cf32 IQ from this file instead")
    p.add_argument("--model", default="default", help="checkpoint name or path")
    p.add_argument("--out", default="out/rx", help="output folder")
    p.add_argument("--reference", default="",
                   help="the original images (folder, TX order) for PSNR/SSIM")
    p.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE,
                   help="the TX's --max-side, to size the references alike")
    p.add_argument("--num-images", type=int, default=0, help="stop after this many images")
    p.add_argument("--idle-timeout", type=float, default=0.0,
                   help="stop after this many seconds without a frame (0: never)")
    p.add_argument("--samp-rate", type=float, default=DEFAULT_SAMP_RATE)
    p.add_argument("--any-model", action="store_true",
                   help="accept frames of any model id (default: only --model's)")
    p.add_argument("--feedback", default="",
                   help="send per-frame reports to the TX at this ZMQ address")
    p.add_argument("--gui", action="store_true",
                   help="show the Qt receiver view (spectrum, constellation, image, SNR and "
                        "keep; flowgraphs/semcom_rx_gui.grc) with any input")
    p.add_argument("--snr-correction", default="",
                   help="SNR-estimator correction file (default: calibration/"
                        "snr_correction.json when present; 'none' disables)")
    p.add_argument("--dc-block", type=float, default=None, metavar="SAMPLES",
                   help="DC blocker's time constant before the detector (0: off; default: "
                        "the block's, sdr_rx.dc_blocker.DEFAULT_LENGTH = 8192)")
    s = p.add_argument_group("payload scheme (issue 16)")
    s.add_argument("--scheme", default="jscc", choices=("jscc", "digital"),
                   help="what the receiver accepts: jscc (frames of --model) or digital "
                        "(WebP + LDPC + QAM frames, any MCS)")
    g = p.add_argument_group("recording and replay (SigMF)")
    g.add_argument("--record", default="", metavar="DIR",
                   help="write the raw received IQ to DIR/rx.sigmf-data + rx.sigmf-meta, one "
                        "annotation per detected frame")
    g.add_argument("--force", action="store_true",
                   help="--record into a folder that is not empty (overwrites its recording)")
    g.add_argument("--max-seconds", type=float, default=0.0,
                   help="stop recording after this much signal (0: no limit)")
    g.add_argument("--max-bytes", type=float, default=0.0,
                   help="stop recording at this data file size (0: no limit)")
    g.add_argument("--replay", default="", metavar="REC",
                   help="receive from a recording (.sigmf-meta, .sigmf-collection or a "
                        "--record folder) instead; its sample rate is used")
    g.add_argument("--adapt", default="", metavar="FILE",
                   help="a receiver adaptation fitted on recorded channels (semcom train "
                        "--finetune-real): corrects every frame before the decoder")
    g.add_argument("--record-hw", default="", help=argparse.SUPPRESS)
    g.add_argument("--center-freq", type=float, default=0.0,
                   help="the radio's centre frequency in Hz, for the recording (0: unknown)")
    from semcom import radio
    radio.add_arguments(p, "rx")


def add_parser(sub, name: str) -> None:
    import apps.rx

    app_parser(sub, name, apps.rx, "receive images (RX flowgraph)", add_arguments)
