"""``semcom tx``: run the TX flowgraph (``flowgraphs/semcom_tx.grc``) from the command line.

Images -> JSCC encoder -> framer -> OFDM modulator -> IQ sink: ZMQ (``--iq-out``, connects to
the channel emulator's or an RX's input) or a cf32 file (``--file``). Ends after the last image
(``--repeat`` passes) and prints what it sent.

Every option and every image file is checked before any work starts (a bad value, an empty or
missing folder, an unreadable image, an image that needs more frames than the header can count:
one line, exit 2). ``--file`` is written to ``FILE.part`` and renamed when done (or
interrupted: what was sent, whole samples); a failed run leaves no output. Over ZMQ, exit 1
when no receiver was connected for ``--peer-timeout`` s or the data did not leave. Ctrl-C and
SIGTERM stop it within 2 s, even while it waits for its peer (exit 130 or 143). ``--record DIR``
keeps what was sent, per image (:mod:`sdr_tx.tx_recorder`): the ground truth of a recording.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from semcom import numerology as nm


def check_args(args) -> list[tuple[int, int]]:
    """Every option and input file, before any work starts (raises OptionError/ImageError:
    one line, exit 2). -> the images' (H, W) as sent ([] for the built-in photos)."""
    from models.checkpoint import peek
    from semcom import validate as v
    from semcom.images import check_images, image_files

    args.tx_snr = v.snr("--tx-snr", args.tx_snr)
    args.frame_symbols = v.integer("--frame-symbols", args.frame_symbols, nm.N_DATA, 65535,
                                   "JSCC symbols")
    args.tx_rms = v.positive("--tx-rms", args.tx_rms, 1.0, "of full scale")
    args.guard = v.integer("--guard", args.guard, 0, 10_000_000, "samples")
    args.repeat = v.integer("--repeat", args.repeat, 1, 1_000_000, "passes")
    args.max_side = v.integer("--max-side", args.max_side, 0, 65535, "pixels")
    args.samp_rate = v.positive("--samp-rate", args.samp_rate, 1e10, "S/s")
    args.peer_timeout = v.finite("--peer-timeout", args.peer_timeout, 0, 86400, "s")
    args.target_psnr = v.finite("--target-psnr", args.target_psnr, 0, 100, "dB")
    args.margin_db = v.finite("--margin-db", args.margin_db, 0, 30, "dB")
    args.budget_symbols = v.integer("--budget-symbols", args.budget_symbols, 0, None,
                                    "JSCC symbols")
    args.window = v.integer("--window", args.window, 1, 10_000, "images")
    args.feedback_timeout = v.positive("--feedback-timeout", args.feedback_timeout, 3600, "s")
    check_scheme(args)
    from semcom import radio
    args.radio_dev = radio.check_args(args, "tx")
    C = int(peek(args.model)["C"])
    args.keep = v.integer("--keep", args.keep, 0, C, f"channels (0: all {C})")
    args.safe_keep = v.integer("--safe-keep", args.safe_keep, 0, C, f"channels (0: all {C})")
    for opt in ("file", "log"):
        if getattr(args, opt):
            v.output_file(f"--{opt}", getattr(args, opt))
    if args.record:
        v.record_dir("--record", args.record, args.force)
    if not args.images:
        return []
    return check_images(image_files(args.images), args.max_side)


def check_scheme(args) -> None:
    """``--scheme``/``--mcs`` (issue 16): ``args.mcs`` becomes a name, ``auto`` or "" (JSCC);
    ``--scheme digital`` with ``auto`` closes the loop as ``--adaptive`` does (the rate control
    then picks the MCS per image from the reports, no rate table needed)."""
    from semcom import mcs as mcs_table
    from semcom.validate import OptionError

    try:
        args.mcs = mcs_table.check_scheme(getattr(args, "scheme", "jscc"),
                                          getattr(args, "mcs", ""))
    except mcs_table.MCSError as exc:
        raise OptionError(f"--mcs {args.mcs}: {exc}") from None
    if args.mcs == "auto":
        args.adaptive, args.policy = True, "fixed"


def check_geometry(codec, sizes, keep_max: int, frame_symbols: int) -> None:
    """Each image fits the header: frame count, image and latent sizes (OptionError)."""
    from semcom.header import FIELDS
    from semcom.interleave import n_frames
    from semcom.validate import OptionError

    width = dict(FIELDS)
    max_frames = (1 << width["frame_count"]) - 1
    max_img = (1 << width["img_h"]) - 1
    for h, w in sizes:
        if max(h, w) > max_img:
            raise OptionError(f"an image of {w}x{h} pixels is larger than the header can "
                              f"describe ({max_img}): use --max-side")
        # + 1: a model with side information sends it in a frame of its own
        frames = n_frames(keep_max * codec.model.symbols_per_channel(h, w), frame_symbols) + 1
        if frames > max_frames:
            raise OptionError(f"a {w}x{h} image needs {frames} frames (the header counts "
                              f"{max_frames}): raise --frame-symbols or lower --max-side")


def _shrunk(h: int, w: int, max_side: int) -> tuple[int, int]:
    if not max_side or max(h, w) <= max_side:
        return h, w
    r = max_side / max(h, w)
    return max(1, round(h * r)), max(1, round(w * r))


def run(args) -> int:
    sizes = check_args(args)
    if args.radio_dev is not None:
        return _run_radio(args, sizes)
    from flowgraphs.semcom_tx import semcom_tx

    kind, addr = ("file", args.file) if args.file else ("zmq", args.iq_out)
    # a file run writes FILE.part and renames it at the end: a failed run leaves no output
    part = args.file + ".part" if args.file else ""
    renamed = False
    try:
        tb = _build(lambda: semcom_tx(sink_kind=kind, sink_address=part or addr,
                                      **graph_params(args)), args)
        tb.iq = tb.sink
        tb.iq.set_peer_timeout(args.peer_timeout)
        _setup(tb, args, sizes)
        rc = _run(tb, args)
        if part:
            os.replace(part, args.file)
            renamed = True
        return rc
    finally:
        if part and not renamed and os.path.exists(part):
            os.unlink(part)


def _setup(tb, args, sizes):
    """What every TX flowgraph needs before it starts: the geometry check, the recorder."""
    if not args.images:
        from models.data import load_split
        sizes = [_shrunk(*im.array.shape[:2], args.max_side) for im in load_split("heldout")]
    codec = tb.encoder.codec
    check_geometry(codec, sizes, codec.C if args.adaptive else (args.keep or codec.C),
                   args.frame_symbols)
    if args.record:
        from sdr_tx.tx_recorder import attach
        attach(tb.encoder, args.record, args.frame_symbols, tb.framer.framer.session)


class _RadioSink:
    """The radio sink's side of :func:`_run` (the ZMQ/file ``iq_sink`` interface): nothing to
    wait for; a summary line with the padding (Pluto) or the underflows (USRP)."""

    def __init__(self, tb, radio):
        self.tb, self.radio = tb, radio

    def set_peer_timeout(self, seconds: float) -> None:
        pass

    def abort(self) -> None:
        pass

    def drain_time(self, samp_rate: float) -> float:
        return 0.0

    def finish(self, timeout: float = 5.0) -> str:
        return ""

    def line(self) -> str:
        if self.radio.kind == "pluto":
            pad = self.tb.pad.padder
            return (f"{self.radio.name}: {pad.bursts} bursts padded to whole "
                    f"{pad.B}-sample buffers with {pad.padded} zeros")
        u, b = self.tb.underflows, self.tb.bursts
        timed = (f", {b.timed} bursts timed {b.tx_time_offset:g} s ahead"
                 if b.tx_time_offset > 0 else "")
        return (f"{self.radio.name}: {u.underflows} underflows, {u.other} other async "
                f"errors (sequence/time){timed}")


def build_radio_tx(args, radio):
    """The radio TX top block (``flowgraphs/semcom_tx_{pluto,usrp}.grc``): opens the device."""
    common = dict(graph_params(args), freq=args.freq, bandwidth=args.bandwidth)
    if radio.kind == "pluto":
        from flowgraphs.semcom_tx_pluto import semcom_tx_pluto
        return semcom_tx_pluto(uri=radio.address, tx_atten=args.tx_atten,
                               buffer_size=args.buffer_size, **common)
    from flowgraphs.semcom_tx_usrp import semcom_tx_usrp
    tb = semcom_tx_usrp(dev_args=radio.address, tx_gain=args.tx_gain,
                        tx_time_offset=getattr(args, "tx_time_offset", 0.0), **common)
    if tb.bursts.tx_time_offset > 0:        # timed bursts: device time 0 is now
        from gnuradio import uhd
        tb.sink.set_time_now(uhd.time_spec(0.0))
        tb.bursts.time_zero = time.monotonic()
    return tb


def _run_radio(args, sizes) -> int:
    from semcom import radio as rd

    r = args.radio_dev
    for w in rd.warnings(r, args):
        print(f"tx: warning: {w}", file=sys.stderr, flush=True)
    tb = rd.open_radio(r, lambda: _build(lambda: build_radio_tx(args, r), args))
    tb.iq = _RadioSink(tb, r)
    _setup(tb, args, sizes)
    return _run(tb, args)


def _run(tb, args) -> int:
    t0 = time.monotonic()
    finished = threading.Event()
    interrupted = False
    tb.start()
    threading.Thread(target=lambda: (tb.wait(), finished.set()), daemon=True).start()
    try:
        while not finished.wait(0.1):       # the main thread stays free for Ctrl-C/SIGTERM
            pass
    except KeyboardInterrupt:
        interrupted = True
        print("tx: interrupted, stopping", file=sys.stderr, flush=True)
        tb.iq.abort()                       # stop waiting on the peer first
        tb.source.cancel()
        tb.stop()
        if not finished.wait(1.5):
            print("tx: the flowgraph did not stop within 1.5 s; exiting", file=sys.stderr,
                  flush=True)
            os._exit(130)
    # a real-time peer takes what is still queued at the air rate: allow for it
    problem = tb.iq.finish(timeout=0.5 if interrupted else
                           5.0 + tb.iq.drain_time(args.samp_rate))
    mod, fr = tb.modulator, tb.framer
    if args.log:
        import json
        frames = fr.frames_per_image
        with open(args.log, "w") as f:
            for rec in _with_sample_times(tb.encoder.sent, frames, mod.level):
                f.write(json.dumps(rec) + "\n")
            f.write(json.dumps({"samples": mod.total, "clipped": mod.clipped,
                                "model_hash": tb.encoder.model_hash}) + "\n")
    print(f"tx: {fr.images_sent} images, {fr.frames_sent} frames, {mod.total} samples "
          f"({mod.total / args.samp_rate:.2f} s of air time), {mod.clipped} clipped, "
          f"model {tb.encoder.model_hash}, {time.monotonic() - t0:.2f} s", flush=True)
    if getattr(tb.iq, "line", None):
        print(f"tx: {tb.iq.line()}", flush=True)
    if interrupted:
        return 130
    rc = 0
    for err in tb.source.errors:
        print(f"tx: {err}", file=sys.stderr)
        rc = 1
    if tb.source.skipped:
        print(f"tx: {tb.source.skipped} image(s) skipped (unreadable)", file=sys.stderr)
    if problem:
        print(f"tx: FAILED: {problem}", file=sys.stderr)
        rc = 1
    return rc


def _with_sample_times(sent, frames_per_image, level) -> list[dict]:
    """The encoder's records with ``frames`` and, where the image's bursts left the modulator,
    ``t_first_sample`` / ``t_last_sample``: wall clock (time.time()) when its first burst's
    first sample and its last burst's last sample were handed to the sink, and the TX output
    sample indices ``sample_first`` (its first sample), ``sample_last_frame`` (its last
    frame's first sample) and ``sample_end`` (one past its last sample). Bursts leave in the
    order the images were encoded, each image's frames back to back."""
    sob, eob = list(level.sob_times), list(level.eob_times)
    sob_i, eob_i = list(level.sob_items), list(level.eob_items)
    out, k = [], 0
    for rec in sent:
        n = frames_per_image.get(rec["image_id"] & 0xFFFF, 0)
        r = {**rec, "frames": n}
        if n and k < min(len(sob), len(sob_i)):
            r["t_first_sample"] = round(sob[k], 6)
            r["sample_first"] = sob_i[k]
        if n and k + n - 1 < min(len(eob), len(eob_i), len(sob_i)):
            r["t_last_sample"] = round(eob[k + n - 1], 6)
            r["sample_last_frame"] = sob_i[k + n - 1]
            r["sample_end"] = eob_i[k + n - 1]
        out.append(r)
        k += n
    return out


IMAGES_AHEAD = 3      # images the source may be ahead of the framer's output (open loop)


def graph_params(args) -> dict:
    """The TX top blocks' parameters from the options (every TX .grc takes these). The closed
    loop is the graph's rate-control block: ``--adaptive`` gives it the feedback address."""
    return dict(images=args.images, model=args.model, snr_db=args.tx_snr, keep=args.keep,
                frame_symbols=args.frame_symbols, tx_rms=args.tx_rms, guard=args.guard,
                repeat=args.repeat, max_side=args.max_side, samp_rate=args.samp_rate,
                images_in_flight=max(1, args.window) if args.adaptive else IMAGES_AHEAD,
                feedback=args.feedback if args.adaptive else "", policy=args.policy,
                target_psnr=args.target_psnr, margin_db=args.margin_db,
                budget_symbols=args.budget_symbols, rate_table=args.rate_table,
                safe_keep=args.safe_keep, feedback_timeout=args.feedback_timeout,
                scheme=getattr(args, "scheme", "jscc"), mcs=getattr(args, "mcs", "") or "auto")


def _build(make, args):
    """Make a top block; the feedback port that cannot be bound is the user's error."""
    import zmq

    from semcom.validate import OptionError

    try:
        return make()
    except zmq.ZMQError as exc:         # the feedback port: in use, or a bad address
        raise OptionError(f"--feedback {args.feedback}: cannot bind: {exc}") from None
