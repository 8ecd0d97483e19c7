"""``semcom channel``: its options (the run is :mod:`apps.channel`)."""

from __future__ import annotations

import argparse

from semcom import numerology as nm
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_impairment_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("impairments (each off unless given)")
    g.add_argument("--snr", type=float, default=None, help="AWGN SNR in dB (product convention)")
    g.add_argument("--snr-steps", default="", help="T0:S0,T1:S1,... (seconds:dB)")
    g.add_argument("--snr-ramp", default="", help="FROM,TO,SECONDS")
    g.add_argument("--snr-walk", default="", help="LO,HI,STEP: per-image random walk")
    g.add_argument("--snr-trace", default="", help="CSV: snr_db with image, frame or time_s")
    g.add_argument("--cfo-hz", type=float, default=None)
    g.add_argument("--sro-ppm", type=float, default=None, help="sample-rate offset")
    g.add_argument("--timing-offset", type=float, default=None, help="samples, fractional ok")
    g.add_argument("--multipath", default=None, help="tap profile: incp, long")
    g.add_argument("--fading", default=None, choices=["rayleigh", "rician"])
    g.add_argument("--doppler-hz", type=float, default=None)
    g.add_argument("--rician-k", type=float, default=None)
    g.add_argument("--phase-noise-deg", type=float, default=None,
                   help="random-walk std per sample (deg)")
    g.add_argument("--iq-gain-db", type=float, default=None)
    g.add_argument("--iq-phase-deg", type=float, default=None)
    g.add_argument("--dc-offset", type=float, default=None, help="fraction of the TX RMS")
    g.add_argument("--clip", type=float, default=None, help="PA clip level (full scale 1)")


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


def run(args) -> int:
    from apps.channel import run as run_app

    return run_app(args)


def add_parser(sub, name: str) -> None:
    from apps.channel import __doc__ as doc

    p = sub.add_parser(name, help="ZMQ channel emulator",
                       description=doc.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)
