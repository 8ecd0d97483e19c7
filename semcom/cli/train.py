"""``semcom train``: declared by :mod:`models.train` itself (its ``add_parser``)."""

from __future__ import annotations


def add_parser(sub, name: str) -> None:
    from models.train import add_parser as add

    add(sub, name)
