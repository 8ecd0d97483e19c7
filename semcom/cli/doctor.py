"""``semcom doctor``: its options (none; the run is :mod:`apps.doctor`)."""

from __future__ import annotations

import argparse

from semcom.cli import app_parser


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``semcom doctor`` takes no options."""


def add_parser(sub, name: str) -> None:
    import apps.doctor

    app_parser(sub, name, apps.doctor, "check the installation and list attached radios",
               add_arguments)
