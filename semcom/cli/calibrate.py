"""``semcom calibrate``: its options (the runs are :mod:`calibration.calibrate` and
:mod:`calibration.radio_cal`)."""

from __future__ import annotations

from semcom.images import DEFAULT_MAX_SIDE
from semcom.ofdm import DEFAULT_SAMP_RATE


def add_radio_arguments(q) -> None:
    q.add_argument("--serial", default="",
                   help="the device's serial number (file name; with --radio: read from it)")
    q.add_argument("--kind", default="pluto", choices=["pluto", "usrp"])
    q.add_argument("--freq", type=float, default=2.45e9, help="centre frequency of the run, Hz")
    q.add_argument("--frames", default="", help="an RX frame log (frames.jsonl) for the CFO")
    q.add_argument("--sweep", default="",
                   help="GAIN=FRAMES.jsonl,...: one RX frame log per TX gain (dB; a Pluto's "
                        "attenuation A is gain -A); with --radio: G1,G2,... the gains to "
                        "sweep on the device itself (TX and RX through a cable; write "
                        "--sweep=-40,-30,... when the first starts with a minus)")
    q.add_argument("--radio", default="", metavar="pluto[:URI]|usrp[:ARGS]",
                   help="drive the --sweep on this radio (apps.radio_sweep; docs/ota.md)")
    q.add_argument("--model", default="default", help="with --radio: the model sent")
    q.add_argument("--samp-rate", type=float, default=DEFAULT_SAMP_RATE, help="with --radio, S/s")
    q.add_argument("--rx-gain", type=float, default=40.0, help="with --radio: manual RX gain")
    q.add_argument("--sweep-frames", type=int, default=8,
                   help="with --radio: frames per gain (median estimated SNR)")
    q.add_argument("--out", default="", help="folder (default calibration/devices)")



def _run(fn_name: str):
    def run(args) -> int:
        if fn_name == "radio" and args.radio:      # the sweep driven on a device
            from apps.radio_sweep import run as run_sweep
            return run_sweep(args)
        if fn_name == "radio":
            from calibration.radio_cal import run as run_radio
            return run_radio(args)
        from calibration import calibrate
        return getattr(calibrate, fn_name)(args)
    return run


def add_parser(sub, name: str) -> None:
    from calibration.calibrate import __doc__ as doc

    p = sub.add_parser(name, help="SNR-estimator and rate-quality calibration (real PHY)",
                       description=doc.split("\n\n")[0])
    sp = p.add_subparsers(dest="what", required=True)
    q = sp.add_parser("radio", help="carrier offset and gain-to-SNR from RX frame logs, per "
                                    "device (calibration/devices/<serial>.json)")
    add_radio_arguments(q)
    q.set_defaults(func=_run("radio"))
    for what, fn in (("snr", "run_snr"), ("policy", "run_policy")):
        q = sp.add_parser(what)
        q.add_argument("--model", default="default")
        q.add_argument("--images", type=int, default=5)
        q.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE)
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--threads", type=int, default=2)
        q.add_argument("--out", default="")
        if what == "snr":
            q.add_argument("--profiles", default="awgn,incp")
        q.set_defaults(func=_run(fn))
