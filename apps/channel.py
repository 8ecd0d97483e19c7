"""``semcom channel``: the ZMQ channel emulator (``flowgraphs/semcom_channel.grc``).

Binds ``--iq-in`` for the TX, connects to the RX at ``--iq-out``, serves runtime control on
``--control`` (ZMQ REP, JSON: ``{"get": true}``, ``{"set": {"snr_db": 5}}``). Every impairment
is off unless set and seeded by ``--seed``: the same seed, input and schedule give
bit-identical output. ``--snr`` is in the product's convention (energy per JSCC symbol over
the noise on it after demodulation). Runs until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from semcom import numerology as nm
from semcom import validate


def settings_from_args(args) -> dict:
    """The impairments given on the command line (the flags are :data:`channel.FLAGS`)."""
    from channel import FLAGS

    s = {k: getattr(args, flag[2:].replace("-", "_"), None) for k, flag in FLAGS.items()}
    return {k: v for k, v in s.items() if v is not None}


def schedule_from_args(args) -> str:
    """The first SNR schedule given (``--snr-<kind>``, kinds :data:`channel.KINDS`)."""
    from channel import KINDS

    for kind in KINDS:
        val = getattr(args, f"snr_{kind}", "")
        if val:
            return f"{kind}:{val}"
    return ""


def check_args(args) -> dict:
    """Every number and name the channel takes from the command line, checked before anything
    starts (one line naming the flag, its range and unit). -> the impairment settings."""
    from channel import FLAGS, Settings, make_schedule

    validate.positive("--samp-rate", args.samp_rate, 1e10, "S/s")
    validate.finite("--tx-rms", args.tx_rms, 1e-6, 1.0, "x full scale")
    validate.integer("--seed", args.seed, 0, 2 ** 63 - 1)
    settings = settings_from_args(args)
    for k, val in settings.items():
        try:
            Settings().update({k: val}, args.samp_rate)
        except (validate.OptionError, KeyError) as exc:
            msg = str(exc.args[0] if exc.args else exc)
            msg = FLAGS[k] + msg[len(k):] if msg.startswith(k + " ") else f"{FLAGS[k]}: {msg}"
            raise validate.OptionError(msg) from None
    sched = schedule_from_args(args)
    if sched:
        kind, _, spec = sched.partition(":")
        make_schedule(kind, spec, args.seed)    # raises OptionError on a malformed schedule
    return settings


def run(args) -> int:
    import zmq

    from flowgraphs.semcom_channel import semcom_channel

    try:
        settings = check_args(args)
        tb = semcom_channel(iq_in=args.iq_in, iq_out=args.iq_out,
                            settings_json=json.dumps(settings), seed=args.seed,
                            samp_rate=args.samp_rate, tx_rms=args.tx_rms,
                            schedule=schedule_from_args(args), control=args.control,
                            truth_path=args.truth, truth_pub=args.truth_pub,
                            realtime=int(args.realtime))
    except validate.OptionError as exc:
        print(f"semcom channel: {exc}", file=sys.stderr)
        return 2
    except zmq.ZMQError as exc:
        print(f"semcom channel: cannot open its IQ sockets (--iq-in {args.iq_in}, --iq-out "
              f"{args.iq_out}, --truth-pub {args.truth_pub or '-'}): {exc}", file=sys.stderr)
        return 2
    except OSError as exc:      # --truth: a folder that cannot be made, a file not writable
        print(f"semcom channel: --truth {args.truth}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    snr = settings.get("snr_db")
    extra = (f" (time-domain SNR {nm.time_domain_snr_db(snr):.2f} dB, noise std "
             f"{nm.noise_voltage_for_snr(snr, args.tx_rms):.4g})" if snr is not None else "")
    print(f"channel: {args.iq_in} -> {args.iq_out}, control {args.control}, seed {args.seed}, "
          f"{'real time' if args.realtime else 'as fast as possible'}; {settings}{extra}",
          flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    tb.start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    abort = getattr(tb.sink, "abort", None)
    if abort is not None:       # a sink waiting for a receiver that went away: stop waiting
        abort()
    tb.stop()
    tb.wait()
    core = tb.emulator.core
    print(f"channel: {core.n_in} samples in, {core.n_out} out, {core.burst + 1} bursts, "
          f"{tb.source.bad_messages} foreign messages dropped, {core.fill_dropped} fill samples "
          f"removed from inside bursts, {core.bursts_cut} bursts cut short", file=sys.stderr)
    return 0
