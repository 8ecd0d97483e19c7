"""``semcom flowgraphs``: its options (the run is :mod:`flowgraphs.tools`)."""

from __future__ import annotations


def run(args) -> int:
    from flowgraphs.tools import run as run_tools

    return run_tools(args)


def add_parser(sub, name: str) -> None:
    from flowgraphs.tools import __doc__ as doc

    p = sub.add_parser(name, help="generate/check/edit the GNU Radio Companion flowgraphs",
                       description=doc.split("\n\n")[0])
    p.add_argument("action", choices=["generate", "check", "edit", "path"])
    p.add_argument("name", nargs="?", help="flowgraph to edit (semcom_tx, semcom_rx)")
    p.set_defaults(func=run)
