"""``semcom models``: declared by :mod:`models.catalog` itself (its ``add_parser``)."""

from __future__ import annotations


def add_parser(sub, name: str) -> None:
    from models.catalog import add_parser as add

    add(sub, name)
