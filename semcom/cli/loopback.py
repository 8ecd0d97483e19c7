"""``semcom loopback``: its options (the run is :mod:`apps.loopback`)."""

from __future__ import annotations

import argparse

from sdr_tx import rate_controller as rc
from semcom import numerology as nm
from semcom.cli import app_parser
from semcom.images import DEFAULT_MAX_SIDE
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_arguments(p: argparse.ArgumentParser) -> None:
    from semcom.cli.channel import add_impairment_arguments

    p.add_argument("--images", default="", help="image folder (default: held-out photos)")
    p.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE)
    p.add_argument("--keep", type=int, default=0, help="latent channels sent (0: all)")
    p.add_argument("--tx-snr", type=float, default=10.0, help="SNR the encoder is told (dB)")
    p.add_argument("--model", default="default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/loopback")
    p.add_argument("--samp-rate", type=float, default=DEFAULT_SAMP_RATE)
    p.add_argument("--frame-symbols", type=int, default=nm.DEFAULT_FRAME_SYMBOLS)
    p.add_argument("--realtime", action="store_true")
    p.add_argument("--timeout", type=float, default=300.0, help="give up after this many s")
    from semcom import radio
    radio.add_arguments(p, "both")
    p.add_argument("--rx-radio", default="", metavar="pluto[:URI]|usrp[:ARGS]",
                   help="with --radio: the RX on another radio (default: the same one; a "
                        "Pluto can be opened by the TX and the RX processes at once, a USRP "
                        "cannot)")
    p.add_argument("--cable", action="store_true",
                   help="with --radio: TX and RX on that one device through a cable and "
                        ">= 30 dB attenuation, in one flowgraph (flowgraphs/semcom_cable_*.grc"
                        "; no emulator)")
    r = p.add_argument_group("recording (SigMF)")
    r.add_argument("--record", default="", metavar="DIR",
                   help="the RX records the received IQ to DIR (rx.sigmf-*), the TX what it "
                        "sent to DIR/tx; the emulator's truth goes into the annotations")
    r.add_argument("--force", action="store_true", help="--record into a folder not empty")
    r.add_argument("--max-seconds", type=float, default=0.0, help="recording limit (0: none)")
    r.add_argument("--max-bytes", type=float, default=0.0, help="recording limit (0: none)")
    s = p.add_argument_group("payload scheme (issue 16)")
    s.add_argument("--scheme", default="jscc", choices=("jscc", "digital"),
                   help="jscc: the model's analog symbols; digital: WebP + LDPC + QAM in the "
                        "default JSCC's full-keep air time")
    s.add_argument("--mcs", default="", metavar="NAME|auto",
                   help="digital: modulation and code rate, one of "
                        "bpsk-1/2, qpsk-1/2, qpsk-3/4, 16qam-1/2, 16qam-3/4, 64qam-2/3, "
                        "64qam-3/4, 64qam-5/6, or auto (default with --scheme digital: from the "
                        "RX's reports)")
    g = p.add_argument_group("adaptive pruning")
    g.add_argument("--adaptive", action="store_true",
                   help="closed loop: the RX reports, the TX picks keep per image")
    g.add_argument("--policy", default=rc.DEFAULT_POLICY, choices=rc.POLICIES)
    g.add_argument("--target-psnr", type=float, default=rc.DEFAULT_TARGET_PSNR)
    g.add_argument("--margin-db", type=float, default=rc.DEFAULT_MARGIN_DB,
                   help="target policy: plan for an SNR this much below the estimate")
    g.add_argument("--budget-symbols", type=int, default=0)
    g.add_argument("--window", type=int, default=1, help="images in flight (1: lock-step)")
    g.add_argument("--rate-table", default="", help="default: the model's calibrated table")
    add_impairment_arguments(p)
    p.set_defaults(snr=15.0)


def run(args) -> int:
    if args.cable:          # one radio, one flowgraph, no emulator
        from apps.cable import run as run_cable
        return run_cable(args)
    from apps.loopback import run as run_app

    return run_app(args)


def add_parser(sub, name: str) -> None:
    import apps.loopback

    app_parser(sub, name, apps.loopback,
               "TX -> channel emulator -> RX on this machine (3 processes)", add_arguments,
               run=run)
