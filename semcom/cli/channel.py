"""``semcom channel``: its options (the run is :mod:`apps.channel`)."""

from __future__ import annotations

import argparse
from dataclasses import fields

from semcom import numerology as nm
from semcom.cli import app_parser
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_impairment_arguments(p: argparse.ArgumentParser) -> None:
    """One option per impairment and per SNR schedule, as the emulator declares them."""
    from channel.impairments import CHOICES, FLAGS, HELP, Settings
    from channel.schedules import FORMS, KINDS

    g = p.add_argument_group("impairments (each off unless given)")
    types = {f.name: f.type for f in fields(Settings)}
    for name, flag in FLAGS.items():
        numeric = "float" in str(types[name])
        g.add_argument(flag, type=float if numeric else str, default=None,
                       choices=CHOICES.get(name), help=HELP.get(name))
        if name == "snr_db":                 # the schedules of the SNR follow it
            for kind in KINDS:
                g.add_argument(f"--snr-{kind}", default="", help=FORMS[kind])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iq-in", default="tcp://127.0.0.1:5555", help="bind: the TX connects here")
    p.add_argument("--iq-out", default="tcp://127.0.0.1:5556", help="connect: the RX's input")
    p.add_argument("--control", default="tcp://127.0.0.1:5557", help="ZMQ REP control address")
    p.add_argument("--truth", default="", help="write each frame's true SNR here (JSON lines)")
    p.add_argument("--truth-pub", default="", help="publish each frame's true SNR (ZMQ PUB)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samp-rate", type=float, default=DEFAULT_SAMP_RATE)
    p.add_argument("--tx-rms", type=float, default=nm.DEFAULT_TX_RMS,
                   help="the TX's burst RMS the SNR refers to")
    p.add_argument("--realtime", action="store_true",
                   help="throttle to the sample rate and fill silence (default: as fast as "
                        "possible, with back-pressure)")
    add_impairment_arguments(p)


def add_parser(sub, name: str) -> None:
    import apps.channel

    app_parser(sub, name, apps.channel, "ZMQ channel emulator", add_arguments)
