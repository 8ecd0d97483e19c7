"""``semcom dataset``: its options (the run is :mod:`apps.dataset`)."""

from __future__ import annotations

import argparse

from semcom.cli import app_parser


def add_arguments(p: argparse.ArgumentParser) -> None:
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = acts.add_parser("export", help="recordings -> per-frame shards + manifest.jsonl")
    e.add_argument("recordings", nargs="+", metavar="REC",
                   help=".sigmf-meta, .sigmf-collection or --record folder")
    e.add_argument("--out", required=True, metavar="DS", help="dataset folder (new)")
    e.add_argument("--tx-record", default="", metavar="DIR",
                   help="the TX's --record folder (default: the one a loopback recording "
                        "names, if any)")
    e.add_argument("--force", action="store_true", help="write into a folder not empty")
    k = acts.add_parser("collect", help="tie recordings together in a .sigmf-collection")
    k.add_argument("recordings", nargs="+", metavar="REC")
    k.add_argument("--out", required=True, metavar="FILE.sigmf-collection")
    k.add_argument("--description", default="")
    k.add_argument("--force", action="store_true", help="replace an existing collection")
    c = acts.add_parser("check", help="validate shapes, hashes and back-links")
    c.add_argument("dataset", metavar="DS")
    i = acts.add_parser("info", help="summary and a plot (DS/info.png)")
    i.add_argument("dataset", metavar="DS")
    i.add_argument("--plot", default="", help="plot file (default: DS/info.png)")
    i.add_argument("--no-plot", action="store_true")


def add_parser(sub, name: str) -> None:
    import apps.dataset

    app_parser(sub, name, apps.dataset,
               "per-frame datasets from SigMF recordings (export, check, info)", add_arguments)
