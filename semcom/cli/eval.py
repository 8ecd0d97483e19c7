"""``semcom eval``: declared by :mod:`models.evaluate` itself (its ``add_parser``)."""

from __future__ import annotations


def add_parser(sub, name: str) -> None:
    from models.evaluate import add_parser as add

    add(sub, name)
