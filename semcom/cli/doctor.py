"""``semcom doctor``: declared by :mod:`semcom.doctor` itself (its ``add_parser``)."""

from __future__ import annotations


def add_parser(sub, name: str) -> None:
    from semcom.doctor import add_parser as add

    add(sub, name)
