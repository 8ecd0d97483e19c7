"""``semcom loopback --radio pluto|usrp --cable``: one radio, one cable, one flowgraph.

TX and RX on a single device (a Pluto's TX port cabled through >= 30 dB of attenuation to its
RX port; a USRP's TX/RX to RX2): ``flowgraphs/semcom_cable_{pluto,usrp}.grc`` holds the TX
chain of ``semcom_tx_{kind}.grc`` and the RX chain of ``semcom_rx_{kind}.grc`` with the device's
sink and source, so the device is opened by one process (a USRP cannot be opened by two). The
emulator process is absent; the closed loop (``--adaptive``) runs as usual, the RX's reports
reaching the TX's rate control over a localhost ZMQ socket inside the process.

Writes to ``--out``: ``originals/``, ``rx/`` (received images, ``frames.jsonl``),
``report.png`` (not when interrupted) and ``summary.json`` (counters, per-image records with
the radio's drops, the radio's totals, the recording's); ``--record DIR`` keeps the device's
received IQ as SigMF (``DIR/rx.sigmf-*``, one annotation per frame, as ``semcom rx --record``)
and what the TX chain sent (``DIR/tx/``, as ``semcom tx --record``);
prints a line per image. Ends when every image arrived, ``--timeout`` passed, 20 s after the
TX's last image without a new one, or on Ctrl-C/SIGTERM (exit 130/143, files written).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from semcom.radio import PLUTO_AGC, RX_BUFFER, Radio, open_radio, probe, tx_buffer

IDLE_AFTER_TX_S = 20.0       # the TX is done and no image arrived for this long: stop


def graph_params(args, radio: Radio, originals: Path, out: Path, feedback: str,
                 model_id: str) -> dict:
    """The cable graph's parameters from ``semcom loopback``'s options."""
    from apps.tx import IMAGES_AHEAD
    from semcom import numerology as nm

    p = dict(images=str(originals), model=args.model, snr_db=args.tx_snr, keep=args.keep,
             frame_symbols=args.frame_symbols, guard=nm.DEFAULT_GUARD, repeat=1, max_side=0,
             samp_rate=args.samp_rate, freq=args.freq, bandwidth=args.bandwidth,
             images_in_flight=max(1, args.window) if args.adaptive else IMAGES_AHEAD,
             feedback=feedback if args.adaptive else "", policy=args.policy,
             target_psnr=args.target_psnr, margin_db=args.margin_db,
             budget_symbols=args.budget_symbols, rate_table=args.rate_table,
             model_id=model_id, out_dir=str(out / "rx"), reference=str(originals),
             log_path=str(out / "rx" / "frames.jsonl"), rx_gain=args.rx_gain,
             scheme=getattr(args, "scheme", "jscc"), mcs=getattr(args, "mcs", "") or "auto")
    if radio.kind == "pluto":
        p.update(uri=radio.address, tx_atten=args.tx_atten,
                 buffer_size=tx_buffer(nm.burst_samples(args.frame_symbols) + nm.DEFAULT_GUARD),
                 rx_buffer_size=RX_BUFFER)
    else:
        p.update(dev_args=radio.address, tx_gain=args.tx_gain, agc=args.agc)
    return p


def build_cable(radio: Radio, params: dict, agc: str):
    """-> the cable top block (opens the device; RadioError: one line when there is none)."""
    def make():
        if radio.kind == "pluto":
            from flowgraphs.semcom_cable_pluto import semcom_cable_pluto
            tb = semcom_cable_pluto(**params)
            tb.radio_source.set_gain_mode(0, PLUTO_AGC[agc])
            if agc == "manual":
                tb.radio_source.set_gain(0, params["rx_gain"])
            return tb
        from flowgraphs.semcom_cable_usrp import semcom_cable_usrp
        tb = semcom_cable_usrp(**params)
        if agc != "manual":
            tb.radio_source.set_rx_agc(True, 0)
        return tb
    return open_radio(radio, make)


def record(args, tb, radio: Radio, model_hash: str):
    """``--record``: the SigMF recorder on the device's received stream (fed the receiver's
    frame events) and the TX chain's record of what it sent. -> the SigMF recorder."""
    from apps.rx import _command_line
    from sdr_rx.sigmf_recorder import attach
    from sdr_tx.tx_recorder import attach as attach_tx

    folder = Path(args.record)
    rec = attach(tb, tb.radio_source, tb.receiver.log, folder, args.samp_rate,
                 frequency=args.freq, frequency_known=True, hw=f"{radio.name} (cable)",
                 command=_command_line(), max_seconds=args.max_seconds,
                 max_bytes=args.max_bytes,
                 extra={"source": f"{radio.name} {radio.address or ''}".strip(),
                        "model_hash": model_hash})
    (folder / "tx").mkdir(parents=True, exist_ok=True)
    attach_tx(tb.encoder, folder / "tx", args.frame_symbols, tb.framer.framer.session)
    return rec


def report(summary: dict, originals: list[Path], out: Path) -> None:
    """``report.png`` as the loopback draws it (originals over received images, SNR, PSNR and
    keep per image); a cable has no true SNR (NaN: not drawn)."""
    from apps.loopback import report as draw

    nan = float("nan")

    def num(x):
        return nan if x is None else x
    ims = [{"name": originals[r["image_id"]].stem if 0 <= r["image_id"] < len(originals)
            else str(r["image_id"]), "file": r.get("file"), "psnr_db": r.get("psnr_db"),
            "partial": r.get("partial", False), "true_snr_db": nan,
            "est_snr_db": num(r.get("snr_est_db", r.get("est_snr_db"))),
            "keep": num(r.get("keep"))} for r in summary["images"]]
    draw({"images": ims}, out)


def run(args) -> int:
    """The whole cable run (``args``: ``semcom loopback``'s)."""
    from apps.loopback import check_args, free_port, prepare_images
    from apps.rx import image_line
    from models.checkpoint import peek

    check_args(args)        # the loopback's checks, --cable's included
    if Path(args.model).is_file():
        args.model = str(Path(args.model).resolve())
    radio = args.radio_dev
    probe(radio)            # no radio: one line and exit 2, before anything is written
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "rx").mkdir(exist_ok=True)
    log = out / "rx" / "frames.jsonl"
    if log.exists():
        log.unlink()
    originals = prepare_images(args.images, out / "originals", args.max_side)
    n = len(originals)
    if getattr(args, "scheme", "jscc") == "digital":     # frames of the digital format only
        from semcom.mcs import DIGITAL_ID
        model_id = f"{DIGITAL_ID:08x}"
    else:
        model_id = peek(args.model)["model_hash"][:8]
    feedback = f"tcp://127.0.0.1:{free_port()}"
    tb = build_cable(radio, graph_params(args, radio, out / "originals", out, feedback,
                                         model_id), args.agc)
    recorder = record(args, tb, radio, peek(args.model)["model_hash"]) if args.record \
        else None
    dec, rcv = tb.decoder, tb.receiver
    done = threading.Event()
    last = [time.monotonic()]

    def on_image(rec, img):
        rec["radio"] = tb.monitor.monitor.since_last()
        last[0] = time.monotonic()
        print("loopback: " + image_line(rec), flush=True)
        if len(dec.results) >= n:
            done.set()
    dec.on_image = on_image
    t0 = time.monotonic()
    tb.start()
    interrupted, why = False, "every image arrived"
    tx_done_at: list[float] = []
    try:
        while not done.wait(0.1):
            now = time.monotonic()
            if now - t0 > args.timeout:
                why = f"timed out after {args.timeout:g} s"
                break
            if not tx_done_at and tb.source.sent >= n:
                tx_done_at.append(now)
            if tx_done_at and now - max(tx_done_at[0], last[0]) > IDLE_AFTER_TX_S:
                why = f"no image for {IDLE_AFTER_TX_S:g} s after the TX's last"
                break
    except KeyboardInterrupt:
        interrupted, why = True, "interrupted"
    tb.stop()
    tb.wait()
    dec.flush()
    summary = {"mode": f"cable ({radio.name})", "images_sent": n, "images": dec.results,
               "scheme": getattr(args, "scheme", "jscc"), "mcs": getattr(args, "mcs", "") or None,
               "counters": rcv.log.summary(), "wall_s": round(time.monotonic() - t0, 3),
               "end": why, "radio": {"radio": radio.name, "freq_hz": args.freq,
                                     **tb.monitor.monitor.summary()}}
    if radio.kind == "pluto":     # the TX side: padding (Pluto) or underflows (USRP)
        pad = tb.pad.padder
        summary["radio"]["tx"] = {"bursts": pad.bursts, "buffer": pad.B, "padded": pad.padded}
    else:
        summary["radio"]["tx"] = {"underflows": tb.underflows.underflows,
                                  "other_async": tb.underflows.other}
    fb = getattr(tb.rate, "fb", None)
    if fb is not None:          # the closed loop: reports the TX's rate control received
        summary["feedback"] = {"reports": fb.reports, "bad": fb.bad}
    if recorder is not None:
        recorder.close()
        summary["recording"] = recorder.summary()
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(out / "summary.json")
    rcv.log.close()
    if not interrupted:         # Ctrl-C/SIGTERM: out within 2 s (drawing takes ~1 s)
        report(summary, originals, out)
    from apps.radio_rx import summary_line
    print(f"loopback: {summary_line(radio, summary['radio'])}; TX "
          + ", ".join(f"{k} {v}" for k, v in summary["radio"]["tx"].items()), flush=True)
    got = sum(1 for r in dec.results if not r.get("lost"))
    print(f"loopback: {got}/{n} images over the cable ({why}); wrote {out}",
          file=sys.stderr if got < n else sys.stdout, flush=True)
    if interrupted:
        return 130
    return 0 if got == n else 1
