"""``semcom rx``: run the RX flowgraph (``flowgraphs/semcom_rx.grc``) from the command line.

IQ source (ZMQ ``--iq-in``, bound, accepting whoever connects; or a cf32 ``--file``) ->
OFDM receiver -> JSCC decoder. Writes to ``--out``: ``image_<id>.png``, ``frames.jsonl`` (the
per-frame log) and ``summary.json`` (counters and per-image records); prints one line per
image. A file run ends at the end of the file; a ZMQ run after ``--num-images`` images, after
``--idle-timeout`` seconds without a frame, or on Ctrl-C (files stay valid).

``--gui`` shows the Qt receiver view (:mod:`apps.rx_gui`) with any of these inputs.

``--record DIR`` also writes the raw received IQ as a SigMF recording (``DIR/rx.sigmf-data``
and ``rx.sigmf-meta``, one annotation per detected frame: :mod:`sdr_rx.sigmf_recorder`);
``--replay REC`` receives from such a recording (a ``.sigmf-meta``, a ``.sigmf-collection``
of one recording or a ``--record`` folder) at its sample rate, with the same decisions.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from functools import partial
from pathlib import Path


def image_line(rec: dict) -> str:
    """One image record (the decoder's, as in frames.jsonl and summary.json) as a line."""
    q = (f"PSNR {rec['psnr_db']:6.2f} dB SSIM {rec['ssim']:.3f}" if "psnr_db" in rec
         else "no reference")
    flag = f" LOST ({rec['cause']})" if rec.get("lost") else " PARTIAL" if rec["partial"] else ""
    snr = rec.get("snr_est_db", rec.get("est_snr_db"))
    return (f"image {rec['image_id']:5d}  keep {rec['keep']:3d}  symbols {rec['symbols']:7d}"
            f"  frames {rec['frames_received']}/{rec['frame_count']}  est SNR "
            f"{'   -  ' if snr is None else f'{snr:6.2f}'} dB  {q}{flag}"
            + (f"  overflows {rec['radio']['overflows']} short "
               f"{rec['radio']['shortfall_samples']}" if "radio" in rec else ""))


def _print_image(rec: dict) -> None:
    print("rx: " + image_line(rec), flush=True)


def check_args(args) -> None:
    """Every option and input file, before any work starts (OptionError: one line, exit 2)."""
    from semcom import validate as v

    args.samp_rate = v.positive("--samp-rate", args.samp_rate, 1e10, "S/s")
    args.max_side = v.integer("--max-side", args.max_side, 0, 65535, "pixels")
    args.num_images = v.integer("--num-images", args.num_images, 0, None, "images")
    args.idle_timeout = v.finite("--idle-timeout", args.idle_timeout, 0, 86400 * 365, "s")
    args.max_seconds = v.finite("--max-seconds", args.max_seconds, 0, 86400 * 365, "s")
    args.max_bytes = v.integer("--max-bytes", args.max_bytes, 0, None, "bytes")
    args.center_freq = v.finite("--center-freq", args.center_freq, 0, 1e12, "Hz")
    if getattr(args, "dc_block", None) is not None:
        args.dc_block = v.integer("--dc-block", args.dc_block, 0, 1 << 24, "samples")
    if args.feedback:       # the feedback sink connects there: a bad address is named now
        import zmq

        sock = zmq.Context.instance().socket(zmq.PUSH)
        try:
            sock.connect(args.feedback)
        except zmq.ZMQError as exc:
            raise v.OptionError(f"--feedback {args.feedback}: cannot connect: {exc}") from None
        finally:
            sock.close(0)
    args.gui = getattr(args, "gui", False)
    if args.gui:
        import os
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM")):
            raise v.OptionError("--gui needs a display (neither DISPLAY nor WAYLAND_DISPLAY is "
                                "set; QT_QPA_PLATFORM=offscreen runs it without one)")
    from semcom import radio
    args.radio_dev = radio.check_args(args, "rx")
    if args.radio_dev is not None:
        if args.replay:
            raise v.OptionError("--radio and --replay: give one input")
        args.center_freq = args.center_freq or args.freq
        args.record_hw = args.record_hw or args.radio_dev.name
    if args.replay:
        if args.file:
            raise v.OptionError("--replay and --file: give one input")
        from sdr_rx.recording import load, resolve
        metas = resolve(args.replay, "--replay")
        if len(metas) > 1:
            raise v.OptionError(f"--replay {args.replay}: {len(metas)} recordings; name one "
                                f"of them ({', '.join(str(m) for m in metas[:4])})")
        rec = load(metas[0], "--replay")
        args.file, args.samp_rate = str(rec.data_path), rec.samp_rate
        args.replayed = rec
    if args.file:
        v.input_file("--file", args.file)
    if args.reference:
        v.input_path("--reference", args.reference)
        from semcom.images import image_files
        image_files(args.reference, "--reference")
    if args.snr_correction and args.snr_correction != "none":
        v.input_file("--snr-correction", args.snr_correction)
    from semcom.snr_correction import from_option
    try:        # read here for a one-line error; the receiver block applies it
        from_option(args.snr_correction)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise v.OptionError(f"--snr-correction {args.snr_correction or '(default)'}: not a "
                            f"usable SNR correction file ({exc})") from None
    if args.adapt:
        from models.checkpoint import peek
        from sdr_rx.rx_adapt import RxAdaptation
        v.input_file("--adapt", args.adapt)
        args.adaptation = RxAdaptation.load(args.adapt)
        model_hash = peek(args.model)["model_hash"]
        if args.adaptation.tx_model_hash != model_hash:
            raise v.OptionError(f"--adapt {args.adapt}: made for model "
                                f"{args.adaptation.tx_model_hash}, --model {args.model} is "
                                f"{model_hash}")
    v.output_dir("--out", args.out)
    if args.record:
        from sdr_rx.sigmf_recorder import check_record_dir
        if args.file and Path(args.file).resolve() == \
                (Path(args.record) / "rx.sigmf-data").resolve():
            raise v.OptionError(f"--record {args.record}: that is where the input "
                                f"{args.file} is: record into another folder")
        check_record_dir("--record", args.record, args.force)


def _command_line() -> str:
    """The exact command that runs this process (``python -m semcom ...`` spelt as such)."""
    import shlex

    argv = list(sys.argv)
    if argv and argv[0].endswith("__main__.py"):
        argv = [sys.executable, "-m", "semcom"] + argv[1:]
    return shlex.join(argv)


def _recorder(args, tb, kind, addr, model_hash):
    """The SigMF recorder beside the receiver on the IQ stream, fed the frame log's events."""
    from sdr_rx.sigmf_recorder import attach

    src = {"file": f"cf32 file {addr}", "zmq": f"ZMQ IQ input {addr}"}.get(kind,
                                                                        f"{kind} {addr}")
    extra = {"source": src, "model_hash": model_hash}
    replayed = getattr(args, "replayed", None)
    if replayed is not None:
        extra["replay_of"] = str(replayed.meta_path)
    return attach(tb, tb.source, tb.receiver.log, args.record, args.samp_rate,
                  frequency=args.center_freq, frequency_known=args.center_freq > 0,
                  hw=args.record_hw or src, command=_command_line(),
                  max_seconds=args.max_seconds, max_bytes=args.max_bytes, extra=extra)


def run(args) -> int:
    check_args(args)
    from flowgraphs.semcom_rx import semcom_rx
    from models.checkpoint import peek

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if getattr(args, "scheme", "jscc") == "digital":     # frames of the digital format only
        from semcom.mcs import DIGITAL_ID
        model_id = "" if args.any_model else f"{DIGITAL_ID:08x}"
    else:
        model_id = "" if args.any_model else peek(args.model)["model_hash"][:8]
    kind, addr = ("file", args.file) if args.file else ("zmq", args.iq_in)
    radio = args.radio_dev
    if radio is not None:
        from apps.radio_rx import build_radio_rx
        from semcom.radio import open_radio, warnings
        for w in warnings(radio, args):
            print(f"rx: warning: {w}", file=sys.stderr, flush=True)
        kind, addr = radio.kind, radio.address
        tb = open_radio(radio, lambda: build_radio_rx(
            args, radio, gui=args.gui, model=args.model, model_id=model_id, out_dir=str(out),
            reference=args.reference, max_side=args.max_side,
            log_path=str(out / "frames.jsonl"), feedback=args.feedback,
            snr_correction=args.snr_correction))
    else:
        if args.gui:        # the Qt view (apps.rx_gui)
            from apps.rx_gui import build
            graph = partial(build, kind, addr)
        else:
            graph = partial(semcom_rx, source_kind=kind, source_address=addr)
        from sdr_rx.dc_blocker import DEFAULT_LENGTH
        tb = graph(model=args.model, model_id=model_id, out_dir=str(out),
                   reference=args.reference, max_side=args.max_side,
                   log_path=str(out / "frames.jsonl"), samp_rate=args.samp_rate,
                   feedback=args.feedback, snr_correction=args.snr_correction,
                   # the DC blocker's time constant (a graph parameter; 0: off)
                   dc_block=DEFAULT_LENGTH if getattr(args, "dc_block", None) is None
                   else args.dc_block)
    dec, rcv = tb.decoder, tb.receiver
    # receiver, decoder and feedback blocks share one frame log (one set of counters) by its
    # path, and the receiver applies the SNR correction: block parameters, set in the graph
    recorder = _recorder(args, tb, kind, addr, peek(args.model)["model_hash"]) \
        if args.record else None
    if args.adapt:
        rcv.transform = args.adaptation.apply
    done = threading.Event()
    last_frame = [time.monotonic()]

    def on_image(rec, img):
        if radio is not None:       # what the radio dropped while this image arrived
            rec["radio"] = tb.monitor.monitor.since_last()
        _print_image(rec)
        if args.num_images and len(dec.results) >= args.num_images:
            done.set()

    def on_frame(frame):
        last_frame[0] = time.monotonic()
    dec.on_image = on_image
    rcv.on_frame = on_frame
    t0 = time.monotonic()
    tb.start()
    finished = threading.Event()
    threading.Thread(target=lambda: (tb.wait(), finished.set()), daemon=True).start()
    interrupted = False

    def idle() -> bool:
        if args.idle_timeout and time.monotonic() - last_frame[0] > args.idle_timeout:
            print(f"rx: no frame for {args.idle_timeout:g} s, stopping", file=sys.stderr)
            return True
        return False
    try:
        if args.gui:        # Qt's event loop, until the same conditions or the window closes
            from apps.rx_gui import run_until
            run_until(tb, lambda: finished.is_set() or done.is_set() or idle())
        while not args.gui and not finished.is_set() and not done.is_set() and not idle():
            finished.wait(0.1)
    except KeyboardInterrupt:
        interrupted = True
        print("rx: interrupted", file=sys.stderr)
        dec.interrupt()                 # queued images: lost (counted), not decoded
    if not interrupted:
        dec.wait_idle()                 # a normal end: every received image decoded
    if not finished.is_set():
        tb.stop()
        tb.wait()
    if kind == "file":
        for frame in rcv.rx.drain():       # a last frame that ends with the file
            dec.add_frame(frame)
    dec.flush()
    summary = {"counters": rcv.log.summary(), "images": dec.results,
               "wall_s": round(time.monotonic() - t0, 3), "model_id": model_id,
               "scheme": getattr(args, "scheme", "jscc"),
               "mcs": sorted({r["mcs"] for r in dec.results if r.get("mcs")}) or None,
               "source": f"{kind}:{addr}"}
    if radio is not None:
        summary["radio"] = {"radio": radio.name, "freq_hz": args.freq,
                            **tb.monitor.monitor.summary()}
    if recorder is not None:
        recorder.close()
        summary["recording"] = recorder.summary()
    if args.adapt:
        summary["adaptation"] = {"file": args.adapt, "adapt_hash": args.adaptation.adapt_hash,
                                 "tx_model_hash": args.adaptation.tx_model_hash}
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(out / "summary.json")
    rcv.log.close()
    c = summary["counters"]
    print(f"rx: {c['frames_decoded']} frames decoded, {c['crc_fail']} header CRC failures, "
          f"{c['model_mismatch']} model mismatches, {c['sync_fail']} unconfirmed triggers, "
          f"{c['images_complete']} images complete, {c['images_partial']} partial; "
          f"wrote {out}")
    if radio is not None:
        from apps.radio_rx import summary_line
        print(f"rx: {summary_line(radio, summary['radio'])}")
    if recorder is not None:
        r = summary["recording"]
        print(f"rx: recorded {r['samples']} samples ({r['seconds']:.2f} s), "
              f"{r['annotations']} frame annotations: {r['meta']}")
    return 130 if interrupted else 0
