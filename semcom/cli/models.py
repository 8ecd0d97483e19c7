"""``semcom models``: its options (the listing is :mod:`models.catalog`)."""

from __future__ import annotations

import argparse

from semcom.cli import torch_app


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--size", default="256x256", help="image size HxW for the symbol count")
    p.add_argument("--model", default=None, help="describe this checkpoint (name or path)")


def add_parser(sub, name: str) -> None:
    _, run = torch_app("models.catalog")      # found, imported when the subcommand runs
    p = sub.add_parser(name, help="list architectures and shipped checkpoints",
                       description="registered architectures and shipped checkpoints")
    add_arguments(p)
    p.set_defaults(func=run)
