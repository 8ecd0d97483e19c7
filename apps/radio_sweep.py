"""``semcom calibrate radio --sweep G1,G2,... --radio pluto|usrp``: the TX gain sweep driven on
an attached radio, TX and RX on that one device through a cable (the cable graph,
``flowgraphs/semcom_cable_{pluto,usrp}.grc``, sending the held-out photos open loop without end).
For each gain (dB; a Pluto's attenuation A is gain -A) :func:`calibration.radio_sweep.sweep`
sets it on the running graph, waits, and takes the median estimated SNR of the frames that
follow. The carrier offset is not taken from these frames (TX and RX share the device's
reference: ~0 Hz, printed only): ``--frames`` gives a log of a run against another radio, else
the stored offset is kept. The fit
and the per-device file are :mod:`calibration.radio_cal`'s, under the device's serial number
(read from the device; ``--serial`` overrides it).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from semcom.radio import RX_BUFFER, Radio, parse, probe, tx_buffer


def graph_params(args, radio: Radio, work: Path, gain: float) -> dict:
    from semcom import numerology as nm

    p = dict(images="", model=args.model, repeat=1_000_000, max_side=256, keep=0,
             samp_rate=args.samp_rate, freq=args.freq, bandwidth=max(args.samp_rate, 200e3),
             out_dir=str(work), reference="", log_path="", rx_gain=args.rx_gain,
             model_id="")
    if radio.kind == "pluto":
        p.update(uri=radio.address, tx_atten=-gain,
                 buffer_size=tx_buffer(nm.burst_samples(nm.DEFAULT_FRAME_SYMBOLS)
                                       + nm.DEFAULT_GUARD), rx_buffer_size=RX_BUFFER)
    else:
        p.update(dev_args=radio.address, tx_gain=gain, agc="manual")
    return p


def _serial(tb, radio: Radio) -> str:
    from types import SimpleNamespace

    from apps.radio_rx import device_serial
    return device_serial(SimpleNamespace(source=tb.radio_source), radio)


def run(args) -> int:
    from apps.cable import build_cable
    from calibration import radio_cal
    from calibration.radio_sweep import parse_gains, sweep
    from semcom import validate as v

    radio = parse(args.radio)
    try:
        gains = parse_gains(args.sweep)
    except ValueError as exc:
        raise v.OptionError(f"--sweep {args.sweep}: {exc} (with --radio: the gains to sweep, "
                            "dB)") from None
    if radio.kind == "pluto" and max(gains) > 0:
        raise v.OptionError("--sweep: a Pluto's gain is minus its attenuation (0 dB at most)")
    args.samp_rate = v.positive("--samp-rate", args.samp_rate, 61.44e6, "S/s")
    args.rx_gain = v.finite("--rx-gain", args.rx_gain, -3, 76, "dB")
    args.sweep_frames = v.integer("--sweep-frames", args.sweep_frames, 1, 100000, "frames")
    probe(radio)                # no radio: one line and exit 2
    events: list[dict] = []
    lock = threading.Lock()

    def listener(event, fields):        # a frame-log listener (never raises)
        with lock:
            events.append({"event": event, **fields})

    def new_events():
        with lock:
            out = list(events)
            events.clear()
        return out
    with tempfile.TemporaryDirectory(prefix="semcom_sweep_") as work:
        tb = build_cable(radio, graph_params(args, radio, Path(work), gains[0]), "manual")
        tb.receiver.log.listeners.append(listener)
        serial = args.serial or _serial(tb, radio)
        if not serial:
            raise v.OptionError(f"cannot read the {radio.name}'s serial number: give --serial")

        def set_gain(g):
            if radio.kind == "pluto":
                tb.set_tx_atten(-g)
            else:
                tb.set_tx_gain(g)

        def on_point(g, snr, n):
            print(f"calibrate radio: gain {g:+.1f} dB -> SNR {snr:.2f} dB ({n} frames)",
                  flush=True)
        tb.start()
        print(f"calibrate radio: sweeping {', '.join(f'{g:g}' for g in gains)} dB on the "
              f"{radio.name} (serial {serial}), {args.sweep_frames} frames per gain", flush=True)
        try:
            res = sweep(gains, set_gain, new_events, frames=args.sweep_frames,
                        on_point=on_point)
        except KeyboardInterrupt:
            print("calibrate radio: interrupted; nothing written", file=sys.stderr)
            return 130
        finally:
            tb.stop()
            tb.wait()
    for g in res["missed"]:
        print(f"calibrate radio: gain {g:+.1f} dB: no frame decoded (left out)", file=sys.stderr)
    try:
        gain = radio_cal.gain_fit(res["points"])
    except ValueError as exc:
        print(f"calibrate radio: {exc}: check the cable and the attenuator (docs/ota.md)",
              file=sys.stderr)
        return 1
    # the carrier offset: TX and RX of one device share its reference, so the sweep's own
    # frames show ~0 Hz, not the offset to another radio; keep the stored one (or --frames')
    try:
        self_cfo = radio_cal.cfo_estimate(res["events"], args.freq)
        print(f"calibrate radio: CFO over the cable {self_cfo['cfo_hz']:+.1f} Hz (TX and RX "
              "share this device's reference: not stored)")
    except ValueError:
        pass
    folder = Path(args.out) if args.out else None
    try:
        stored = radio_cal.load(serial, folder) or {}
    except (ValueError, OSError):
        stored = {}
    cfo = stored.get("cfo")
    if args.frames:
        v.input_file("--frames", args.frames)
        try:
            cfo = radio_cal.cfo_estimate(radio_cal.read_frames(args.frames), args.freq)
        except ValueError as exc:
            raise v.OptionError(f"--frames {args.frames}: {exc}") from None
        print(f"calibrate radio: CFO {cfo['cfo_hz']:+.1f} Hz ({cfo['cfo_ppm']:+.3f} ppm) "
              f"from {args.frames}")
    print(f"calibrate radio: SNR = {gain['slope']:.3f} x gain {gain['intercept_db']:+.2f} dB, "
          f"linear up to {gain['max_linear_gain_db']:g} dB"
          + (f" (saturated at {gain['saturated']})" if gain["saturated"] else ""))
    path = radio_cal.save(serial, radio.kind, args.freq, cfo, gain, folder)
    print(f"calibrate radio: wrote {path}")
    return 0
