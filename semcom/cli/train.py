"""``semcom train``: its options (the run is :mod:`apps.train`). ``python -m semcom.cli.train``
(and ``torchrun -m semcom.cli.train``) runs it without the rest of the command line: on a
machine with torch but no GNU Radio.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="afjscc", help="registered architecture (semcom models)")
    p.add_argument("--config", default="", help="JSON architecture config, e.g. '{\"C\": 32}'")
    p.add_argument("--data", default=None, help="folder of images (default: built-in photos)")
    p.add_argument("--out", default="runs/train", help="output folder")
    p.add_argument("--steps", type=int, default=40000,
                   help="0: as many as --time-budget-min allows, the schedule spanning the time")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--crop-late", type=int, default=128)
    p.add_argument("--crop-switch", type=float, default=0.6)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200, help="steps of linear LR warm-up")
    p.add_argument("--snr-min", type=float, default=-1.0)
    p.add_argument("--snr-max", type=float, default=26.0)
    p.add_argument("--fixed-snr", type=float, default=None, help="train at one SNR only")
    p.add_argument("--fixed-keep", type=int, default=None, help="train at one keep only")
    p.add_argument("--full-keep-prob", type=float, default=0.3)
    p.add_argument("--channels", default="awgn:0.8,rayleigh:0.1,incp:0.1",
                   help="channel mix NAME:WEIGHT,... (awgn, rayleigh, incp, long)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--init", default="",
                   help="start from this checkpoint's weights (fine-tuning; new schedule)")
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--val-every", type=int, default=1000, help="0 disables validation")
    p.add_argument("--snapshot-steps", default="", help="comma-separated steps to snapshot")
    p.add_argument("--stop-step", type=int, default=0,
                   help="stop (and save) at this step; the LR schedule still spans --steps, "
                        "so ablations can share the first part of a longer run's recipe")
    p.add_argument("--time-budget-min", type=float, default=0.0,
                   help="stop (and save) after this many minutes (with --steps 0: training "
                        "minutes in all, resumable, and the LR and crop schedules follow them)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("fine-tuning the receiver on recorded channels")
    g.add_argument("--finetune-real", default="", metavar="DS",
                   help="fit the receiver's adaptation on a dataset (semcom dataset export "
                        "with the TX's record) -> OUT/rx_adapt.json; the TX is unchanged. "
                        "--init names the model it must be for")
    g.add_argument("--finetune-images", default="",
                   help="fit on these image ids only (comma-separated; default: all)")


def run(args) -> int:
    from apps.train import run as run_app

    return run_app(args)


def add_parser(sub, name: str) -> None:
    from semcom.cli import torch_app

    _, run_app = torch_app("apps.train")  # without torch: listed as unavailable (not imported)

    p = sub.add_parser(name, help="train a JSCC model", description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(func=run_app)


DESCRIPTION = "train a JSCC model on random crops with mixed SNR and keep per batch"


def main(argv=None) -> int:
    """``python -m semcom.cli.train``: the same options and errors as ``semcom train``."""
    from semcom.cli import Parser, is_user_error, one_line

    p = Parser(prog="python -m semcom.cli.train", description=DESCRIPTION)
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return run(args)
    except Exception as exc:
        if is_user_error(exc):
            print(f"train: {one_line(exc)}", file=sys.stderr, flush=True)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
