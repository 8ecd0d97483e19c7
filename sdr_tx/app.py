"""``semcom tx``: run the TX flowgraph (``flowgraphs/semcom_tx.grc``) from the command line.

Images -> JSCC encoder -> framer -> OFDM modulator -> IQ sink: ZMQ (``--iq-out``, connects to
the channel emulator's or an RX's input) or a cf32 file (``--file``). Ends after the last image
(``--repeat`` passes) and prints what it sent.
"""

from __future__ import annotations

import argparse
import sys
import time

from semcom import numerology as nm


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", default="", help="image file or folder (default: held-out photos)")
    p.add_argument("--model", default="default", help="checkpoint name or path")
    p.add_argument("--tx-snr", type=float, default=10.0,
                   help="SNR (dB) the encoder is told (the TX never reads the channel)")
    p.add_argument("--keep", type=int, default=0, help="latent channels sent (0: all)")
    p.add_argument("--frame-symbols", type=int, default=nm.DEFAULT_FRAME_SYMBOLS)
    p.add_argument("--tx-rms", type=float, default=nm.DEFAULT_TX_RMS,
                   help="burst RMS as a fraction of full scale")
    p.add_argument("--guard", type=int, default=nm.DEFAULT_GUARD)
    p.add_argument("--iq-out", default="tcp://127.0.0.1:5555", help="ZMQ address to connect to")
    p.add_argument("--file", default="", help="write cf32 IQ here instead of ZMQ")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--max-side", type=int, default=256, help="shrink larger images (0: keep)")
    p.add_argument("--samp-rate", type=float, default=1e6)
    p.add_argument("--log", default="", help="write per-image records here (JSON lines)")
    g = p.add_argument_group("adaptive pruning (closed loop on the RX's reports)")
    g.add_argument("--adaptive", action="store_true", help="pick keep per image from reports")
    g.add_argument("--policy", default="target", choices=["target", "budget", "fixed"])
    g.add_argument("--target-psnr", type=float, default=25.0)
    g.add_argument("--budget-symbols", type=int, default=0, help="JSCC symbols per image")
    g.add_argument("--feedback", default="tcp://127.0.0.1:5558",
                   help="bind: the RX's reports arrive here")
    g.add_argument("--window", type=int, default=1,
                   help="images in flight ahead of the reports (adaptive; 1 = lock-step)")
    g.add_argument("--rate-table", default="",
                   help="rate-quality table (default: calibration/tables/<model hash>.json)")
    g.add_argument("--safe-keep", type=int, default=0, help="keep without reports (0: all)")
    g.add_argument("--feedback-timeout", type=float, default=3.0,
                   help="seconds without a report before falling back to --safe-keep")


def run(args) -> int:
    from flowgraphs.semcom_tx import semcom_tx

    kind, addr = ("file", args.file) if args.file else ("zmq", args.iq_out)
    tb = semcom_tx(images=args.images, model=args.model, snr_db=args.tx_snr, keep=args.keep,
                   frame_symbols=args.frame_symbols, tx_rms=args.tx_rms, guard=args.guard,
                   sink_kind=kind, sink_address=addr, repeat=args.repeat,
                   max_side=args.max_side, samp_rate=args.samp_rate)
    loop = _adaptive(tb, args) if args.adaptive else None
    t0 = time.monotonic()
    try:
        tb.start()
        tb.wait()
    except KeyboardInterrupt:
        print("tx: interrupted", file=sys.stderr)
        tb.stop()
        tb.wait()
    if loop is not None:
        loop.stop()
    mod, fr = tb.modulator, tb.framer
    if args.log:
        import json
        frames = fr.frames_per_image
        with open(args.log, "w") as f:
            for rec in tb.encoder.sent:
                f.write(json.dumps({**rec, "frames": frames.get(rec["image_id"] & 0xFFFF, 0)})
                        + "\n")
            f.write(json.dumps({"samples": mod.total, "clipped": mod.clipped,
                                "model_hash": tb.encoder.model_hash}) + "\n")
    print(f"tx: {fr.images_sent} images, {fr.frames_sent} frames, {mod.total} samples "
          f"({mod.total / args.samp_rate:.2f} s of air time), {mod.clipped} clipped, "
          f"model {tb.encoder.model_hash}, {time.monotonic() - t0:.2f} s")
    return 0


def _adaptive(tb, args):
    """Wire the rate controller: reports in, keep and SNR per image out, a window of images."""
    import threading

    from calibration.cli import table_path
    from calibration.rate_table import RateTable
    from sdr_tx.feedback import FeedbackReceiver
    from sdr_tx.rate_controller import RateController

    enc, src = tb.encoder, tb.source
    C = enc.codec.C
    table = RateTable.load(args.rate_table or table_path(enc.model_hash), enc.model_hash) \
        if args.policy != "fixed" else None
    ctl = RateController(C, args.policy, table, target_psnr=args.target_psnr,
                         budget_symbols=args.budget_symbols, fixed_keep=args.keep or C,
                         safe_keep=args.safe_keep or C, timeout_s=args.feedback_timeout)
    progress = [time.monotonic()]       # last report or released image

    def image_done(msg):
        progress[0] = time.monotonic()
        src.give_credit()
    fb = FeedbackReceiver(args.feedback, ctl, on_image_done=image_done)
    src.set_window(max(1, args.window))
    lock = threading.Lock()

    def policy(size):
        with fb.lock:
            d = ctl.decide(time.monotonic(), enc.codec.model.symbols_per_channel(*size))
        snr = d.snr_used_db if d.snr_used_db is not None else args.tx_snr
        with lock:
            print(f"tx: keep {d.keep:3d}  policy {d.policy}  SNR acted on "
                  f"{'-' if d.snr_used_db is None else f'{d.snr_used_db:.2f}'}  expected PSNR "
                  f"{'-' if d.expected_psnr_db is None else f'{d.expected_psnr_db:.2f}'}  "
                  f"({d.reason})", flush=True)
        return d.keep, snr, {"decision": d.to_dict()}
    enc.policy = policy

    class _Loop:
        stop_flag = threading.Event()

        def stop(self):
            self.stop_flag.set()
            fb.stop()

    loop = _Loop()

    def watchdog():
        # lost feedback must not stall a lock-step TX: release the window when silent
        while not loop.stop_flag.wait(0.25):
            now = time.monotonic()
            if now - max(progress[0], fb.last_t or 0.0) > args.feedback_timeout:
                print(f"tx: no feedback for {args.feedback_timeout:g} s: sending the next "
                      "image with the safe keep", flush=True)
                progress[0] = now
                src.give_credit()
    fb.start()
    threading.Thread(target=watchdog, daemon=True).start()
    return loop


def add_parser(sub, name: str) -> None:
    p = sub.add_parser(name, help="transmit images (TX flowgraph)",
                       description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)
