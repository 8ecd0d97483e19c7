"""``semcom eval``: its options (the run is :mod:`models.evaluate`)."""

from __future__ import annotations

import argparse

from semcom.cli import app_parser, torch_app


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", default=None,
                   help="folder of images (default: the built-in held-out photos)")
    p.add_argument("--snr", default="0,5,10,15,20", help="comma-separated SNRs in dB")
    p.add_argument("--keep", default="", help="comma-separated keep values (default: full C)")
    p.add_argument("--channel", default="awgn", help="awgn, rayleigh or a multipath profile")
    p.add_argument("--model", default="default", help="shipped checkpoint name or path")
    p.add_argument("--out", default="eval.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--digital", action="store_true",
                   help="add the digital link's practical baseline per MCS (WebP + LDPC + "
                        "QAM, thresholds measured through the PHY: semcom/fec/thresholds.json)")
    p.add_argument("--quiet", action="store_true")


def add_parser(sub, name: str) -> None:
    doc, run = torch_app("models.evaluate")   # found, imported when the subcommand runs
    app_parser(sub, name, None, "simulated PSNR/SSIM vs SNR against digital baselines",
               add_arguments, description=doc.split("\n\n")[0], run=run)
