"""``semcom doctor``: its options (none; the run is :mod:`apps.doctor`)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``semcom doctor`` takes no options."""


def run(args) -> int:
    from apps.doctor import run as run_app

    return run_app(args)


def add_parser(sub, name: str) -> None:
    from apps.doctor import __doc__ as doc

    p = sub.add_parser(name, help="check the installation and list attached radios",
                       description=doc.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)
