"""``semcom dataset``: declared by :mod:`semcom.dataset` itself (its ``add_parser``)."""

from __future__ import annotations


def add_parser(sub, name: str) -> None:
    from semcom.dataset import add_parser as add

    add(sub, name)
