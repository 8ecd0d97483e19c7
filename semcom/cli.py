"""The ``semcom`` command line: one entry point, one subcommand per tool.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``; the module's heavy
imports (torch, GNU Radio) happen only when that subcommand runs, so ``semcom doctor`` and
``semcom --help`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand name -> module implementing add_parser(subparsers) and run(args)
SUBCOMMANDS = {
    "doctor": "semcom.doctor",
    "train": "models.train",
    "eval": "models.evaluate",
    "models": "models.catalog",
    "flowgraphs": "flowgraphs.tools",
    "tx": "sdr_tx.app",
    "channel": "flowgraphs.channel_app",
    "loopback": "semcom.loopback",
    "calibrate": "calibration.cli",
    "rx": "sdr_rx.app",
}


USER_ERRORS = {"CheckpointError", "RateTableError", "FileNotFoundError", "HeaderError"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semcom",
        description="Over-the-air semantic (deep JSCC) image transmission testbed.",
    )
    from semcom import __version__

    parser.add_argument("--version", action="version", version=f"semcom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, modname in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(modname)
        except ImportError as exc:
            # A broken install must not take down the rest of the CLI (semcom doctor above
            # all): the subcommand stays listed and explains what is missing.
            _unavailable(sub, name, exc)
            continue
        module.add_parser(sub, name)
    return parser


def _unavailable(sub, name: str, exc: ImportError) -> None:
    p = sub.add_parser(name, help=f"(unavailable: {exc})", add_help=False, prefix_chars="\0")
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(args) -> int:
        print(f"semcom {name}: cannot run: {exc}. Run `semcom doctor`, then `make setup`.",
              file=sys.stderr)
        return 1
    p.set_defaults(func=fail)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("semcom: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # refusals of bad input (a wrong checkpoint, a table of another model, a missing
        # file) are a clear one-line message, not a traceback
        if type(exc).__name__ in USER_ERRORS:
            print(f"semcom {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
