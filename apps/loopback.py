"""``semcom loopback``: TX -> channel emulator -> RX as three processes on this machine.

The hardware-free main job. Prepares the images (default: the built-in held-out photos,
shrunk to ``--max-side``), starts ``semcom rx`` (binds its IQ input), ``semcom channel``
(binds the TX's input, connects to the RX) and ``semcom tx`` on free localhost ports, prints a
line per received image, and writes to ``--out``: ``originals/``, ``rx/`` (received images),
``frames.jsonl`` (the RX's per-frame log joined with the emulator's true SNR), ``report.png``
and ``summary.json``. Ctrl-C or the end stops all three; files are written atomically.

Timing in ``summary.json`` (one machine's wall clock): per image ``latency_ms`` from the TX
handing the image's first IQ sample to its sink to the decoded PNG on disk (also from its last
sample, ``latency_last_ms``, and from the encoder's start, ``latency_encode_ms``), medians in
``latency_median_ms``; ``realtime_lag``: per image and per stage (TX, channel, RX PHY,
decoder) how far behind the air's schedule it is (:func:`realtime_lag`), which is what
``--realtime`` is for (printed at the end of such a run).

Every option is checked before a process starts (one line, exit 2). While they run, the three
children are watched: when one fails (exits non-zero, is killed, or the channel exits at all)
the loopback stops the others, names the child and its last line, and exits 1; so does a
time-out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from apps.rx import image_line
from channel.impairments import FLAGS
from channel.schedules import KINDS
from semcom import numerology as nm
from semcom.snr import CONVENTION


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JsonlTail:
    """New complete JSON-object lines of a file another process appends to."""

    def __init__(self, path: Path):
        self.path, self.pos, self.rest = path, 0, ""

    def read(self) -> list[dict]:
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                chunk = f.read()
                self.pos = f.tell()
        except FileNotFoundError:
            return []
        *lines, self.rest = (self.rest + chunk).split("\n")
        out = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out


def prepare_images(images: str, out: Path, max_side: int) -> list[Path]:
    from PIL import Image

    from semcom.images import image_files, load_rgb, shrink

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if images:
        # an empty folder or an unreadable image: ImageError (one line, exit 2)
        sources = [(p.stem, load_rgb(p, max_side)) for p in image_files(images)]
    else:
        from models.data import load_split
        sources = []
        for im in load_split("heldout"):
            sources.append((im.name.replace(":", "_").replace(".jpg", ""),
                            shrink(im.array, max_side)))
    for i, (name, arr) in enumerate(sources):
        path = out / f"{i:03d}_{name}.png"
        Image.fromarray(arr).save(path)
        written.append(path)
    if not written:
        from semcom.images import ImageError
        raise ImageError(f"--images {images or '(built-in)'}: no images")
    return written


def check_args(args) -> None:
    """Every option, before any process starts (OptionError: one line, exit 2): the
    loopback's own, the TX's (keep against the model's C) and the channel's (its own check)."""
    from apps.channel import check_args as check_channel_args
    from models.checkpoint import peek
    from semcom import validate as v

    args.max_side = v.integer("--max-side", args.max_side, 0, 65535, "pixels")
    args.tx_snr = v.snr("--tx-snr", args.tx_snr)
    args.seed = v.integer("--seed", args.seed, 0, 2 ** 63 - 1)
    args.samp_rate = v.positive("--samp-rate", args.samp_rate, 1e10, "S/s")
    args.frame_symbols = v.integer("--frame-symbols", args.frame_symbols, nm.N_DATA, 65535,
                                   "JSCC symbols")
    args.timeout = v.positive("--timeout", args.timeout, 86400 * 365, "s")
    args.target_psnr = v.finite("--target-psnr", args.target_psnr, 0, 100, "dB")
    args.margin_db = v.finite("--margin-db", args.margin_db, 0, 30, "dB")
    args.budget_symbols = v.integer("--budget-symbols", args.budget_symbols, 0, None,
                                    "JSCC symbols")
    args.window = v.integer("--window", args.window, 1, 10_000, "images")
    from apps.tx import check_scheme
    check_scheme(args)          # --scheme digital without --mcs: auto, the loop closed
    if args.rate_table:
        v.input_file("--rate-table", args.rate_table)
    if args.images:
        v.input_path("--images", args.images)
    C = int(peek(args.model)["C"])
    args.keep = v.integer("--keep", args.keep, 0, C, f"channels (0: all {C})")
    check_channel_args(argparse.Namespace(**{"tx_rms": nm.DEFAULT_TX_RMS, **vars(args)}))
    from semcom import radio
    args.radio_dev = radio.check_args(args, "both")
    if args.rx_radio and not args.radio:
        raise v.OptionError("--rx-radio needs --radio (the TX's radio)")
    args.cable = getattr(args, "cable", False)
    if args.cable and args.radio_dev is None:
        raise v.OptionError("--cable needs --radio pluto[:URI] or usrp[:ARGS] (TX and RX on "
                            "that one device)")
    if args.cable and args.rx_radio:
        raise v.OptionError("--cable runs TX and RX on one radio: drop --rx-radio")
    if args.radio_dev is not None:
        radio.parse(args.rx_radio or args.radio)
        if args.rx_radio and radio.parse(args.rx_radio).kind != args.radio_dev.kind:
            raise v.OptionError("--rx-radio must be the same kind as --radio (the gain "
                                "options are per kind)")
        used = [k for k in IMPAIRMENTS if getattr(args, k, None) not in (None, "", False)
                and not (k == "snr" and args.snr == 15.0)]     # 15: the loopback's default
        if used:
            raise v.OptionError(f"--{used[0].replace('_', '-')} is a channel-emulator "
                                "impairment: with --radio the channel is the cable or the air")
    v.output_dir("--out", args.out)
    if args.record:
        args.max_seconds = v.finite("--max-seconds", args.max_seconds, 0, 86400 * 365, "s")
        args.max_bytes = v.integer("--max-bytes", args.max_bytes, 0, None, "bytes")
        v.record_dir("--record", args.record, args.force)


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip()[:200] if lines else ""


def _describe(rc: int) -> str:
    if rc < 0:
        try:
            return f"was killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"was killed by signal {-rc}"
    return f"exited with status {rc}"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _png_time(rec: dict) -> float | None:
    """When the RX's decoded PNG was on disk: the decoder's ``t_written`` (after the rename),
    else the file's mtime; None when there is no file."""
    if rec.get("t_written") is not None:
        return float(rec["t_written"])
    try:
        return os.stat(rec["file"]).st_mtime if rec.get("file") else None
    except OSError:
        return None


def _latency(rec: dict, txr: dict) -> dict:
    """Per-image latency (ms), app to app on one machine's wall clock: ``latency_ms`` from the
    TX handing the image's first IQ sample to its sink (``t_first_sample`` in the TX log) to
    its decoded PNG on disk; ``latency_last_ms`` from the TX handing its last sample; and
    ``latency_encode_ms`` from the TX's encode start. ``decoded_to_disk_ms``: from the end of
    the decode to the PNG on disk (metrics and PNG). None where a time is missing (a lost
    image has no PNG)."""
    t_disk = _png_time(rec)

    def ms(a, b):
        return round(1e3 * (b - a), 1) if a is not None and b is not None else None
    return {"latency_ms": ms(txr.get("t_first_sample"), t_disk),
            "latency_last_ms": ms(txr.get("t_last_sample"), t_disk),
            "latency_encode_ms": ms(txr.get("t_encode_start"), t_disk),
            "decoded_to_disk_ms": ms(rec.get("t_decoded"), t_disk)}


REALTIME_STAGES = ("tx", "channel", "rx_phy", "decoder")


def realtime_lag(images: list[dict], tx_images: dict, truth: list[dict], frames: list[dict],
                 samp_rate: float) -> dict:
    """How far behind real time each stage is, per image (ms): a stage's time for image i
    against the air's schedule, ``d_i = t_i - s_i / samp_rate`` with ``s`` the TX's sample
    index of the image's end, anchored at the stage's best image: ``lag_i = d_i - min_j d_j``
    (so >= 0; the first image's start-up, e.g. the decoder's warm-up, does not skew the rest).
    Times: TX, its last sample handed to the sink; channel, its last frame's start passing
    the emulator (truth log ``t``; ``s`` that frame's first sample); RX PHY, its last frame
    decoded (frame log ``t``); decoder, its PNG on disk. A stage that keeps up stays near 0
    (the jitter of buffers); one that falls behind grows image after image (``growth_ms``:
    last minus first). A late stage makes every later stage late too: ``added_max_ms`` is the
    most a stage adds over the one before (the variation it adds, not its constant delay).
    -> ``{"per_image": [{image_id, tx_ms, channel_ms, rx_phy_ms, decoder_ms}], "max_ms":
    {stage: ...}, "growth_ms": {...}, "added_max_ms": {...}}``."""
    ch_t: dict[int, float] = {}
    ch_frame: dict[int, int] = {}
    for t in truth:
        i, k = t.get("image_id"), t.get("frame_idx")
        if i is None or k is None or t.get("t") is None:
            continue
        if k >= ch_frame.get(i, -1):
            ch_frame[i], ch_t[i] = k, float(t["t"])
    phy_t: dict[int, float] = {}
    for f in frames:
        if f.get("t") is not None and "image_id" in f:
            phy_t[f["image_id"]] = max(phy_t.get(f["image_id"], 0.0), float(f["t"]))
    points: dict[str, list] = {s: [] for s in REALTIME_STAGES}   # (image, t, sample)
    for im in images:
        i, txr = im["image_id"], tx_images.get(im["image_id"], {})
        end, last = txr.get("sample_end"), txr.get("sample_last_frame")
        if end is None:
            continue
        for stage, t, s in (("tx", txr.get("t_last_sample"), end),
                            ("channel", ch_t.get(i), last),
                            ("rx_phy", phy_t.get(i), end),
                            ("decoder", im.get("_t_disk"), end)):
            if t is not None and s is not None:
                points[stage].append((i, t, s))
    lag: dict[int, dict] = {}
    for stage, pts in points.items():
        if not pts:
            continue
        best = min(t - s / samp_rate for _, t, s in pts)
        for i, t, s in pts:
            lag.setdefault(i, {"image_id": i})[f"{stage}_ms"] = round(
                1e3 * (t - s / samp_rate - best), 1)
    per = [lag[i] for i in sorted(lag)]

    def col(stage):
        return [r[f"{stage}_ms"] for r in per if f"{stage}_ms" in r]
    added = {}
    for a, b in zip(REALTIME_STAGES, REALTIME_STAGES[1:], strict=False):
        d = [r[f"{b}_ms"] - r[f"{a}_ms"] for r in per if f"{a}_ms" in r and f"{b}_ms" in r]
        added[b] = round(max(d), 1) if d else None
    return {"per_image": per,
            "max_ms": {s: (max(col(s)) if col(s) else None) for s in REALTIME_STAGES},
            "growth_ms": {s: (round(col(s)[-1] - col(s)[0], 1) if col(s) else None)
                          for s in REALTIME_STAGES},
            "added_max_ms": added}


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass          # a line cut by a kill: skip it
    return out


def true_snr(truth_path: Path, image_id: int) -> str:
    """The emulator's true SNR for an image (mean over its frames), for the progress lines."""
    vals = [t["snr_db"] for t in _read_jsonl(truth_path)
            if t.get("image_id") == image_id and t.get("snr_db") is not None]
    return f"{10 * np.log10(np.mean(10 ** (np.array(vals) / 10))):6.2f} dB" if vals else "   ?  "


def versions() -> dict:
    import torch

    v = {"python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__}
    try:
        from gnuradio import gr
        v["gnuradio"] = gr.version()
    except ImportError:
        pass
    from semcom import __version__
    v["semcom"] = __version__
    return v



@contextlib.contextmanager
def _signals_deferred():
    """Ctrl-C or SIGTERM while the children start is remembered and raised when the block ends
    (a KeyboardInterrupt inside ``subprocess.Popen`` would lose the child it has just forked,
    which then runs on after the loopback). Only in the main thread, where handlers live."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, lambda signum, frame: seen.append(signum))
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if signal.SIGTERM in seen and callable(old[signal.SIGTERM]):
        old[signal.SIGTERM](signal.SIGTERM, None)       # the CLI's: raises Terminated
    if seen:
        raise KeyboardInterrupt

def run(args) -> int:
    from tqdm import tqdm


    t0 = time.monotonic()
    check_args(args)
    # the three processes run from the repository: make the user's relative paths absolute
    if Path(args.model).is_file():
        args.model = str(Path(args.model).resolve())
    if args.snr_trace:
        args.snr_trace = str(Path(args.snr_trace).resolve())
    record = Path(args.record).resolve() if args.record else None
    # --force for the RX: the loopback checked the folder itself (empty, or --force), and the
    # TX may make DIR/tx before the RX, slower to start, looks at DIR
    hw = args.radio_dev.name if args.radio_dev else "semcom channel emulator (loopback)"
    rx_record = ["--record", str(record), "--record-hw", hw,
                 "--max-seconds", str(args.max_seconds), "--max-bytes", str(args.max_bytes),
                 "--force"] if record else []
    tx_record = (["--record", str(record / "tx")] + (["--force"] if args.force else [])) \
        if record else []
    if args.radio_dev is not None:       # no radio: one line and exit 2, before any process
        from semcom import radio
        for spec in dict.fromkeys([args.radio, args.rx_radio or args.radio]):
            radio.probe(radio.parse(spec))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    originals = prepare_images(args.images, out / "originals", args.max_side)
    n = len(originals)
    p_ch, p_rx, p_ctl, p_fb = free_port(), free_port(), free_port(), free_port()
    rx_in, ch_in, ctl, fb = (f"tcp://127.0.0.1:{p}" for p in (p_rx, p_ch, p_ctl, p_fb))
    if args.rate_table:
        args.rate_table = str(Path(args.rate_table).resolve())
    adaptive_tx = (["--adaptive", "--policy", args.policy, "--target-psnr",
                    str(args.target_psnr), "--margin-db", str(args.margin_db),
                    "--budget-symbols", str(args.budget_symbols),
                    "--window", str(args.window), "--feedback", fb]
                   + (["--rate-table", args.rate_table] if args.rate_table else [])
                   ) if args.adaptive else []
    py = [sys.executable, "-m", "semcom"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    truth_path = out / "truth.jsonl"
    tx_log = out / "tx.jsonl"
    for f in (truth_path, tx_log, out / "rx" / "frames.jsonl"):
        if f.exists():
            f.unlink()
    ch_args = []
    for k in CHANNEL_OPTIONS:           # the emulator's own options, passed on as given
        v = getattr(args, k, None)
        if v not in (None, ""):
            ch_args += ["--" + k.replace("_", "-"), str(v)]
    procs = {}
    interrupted = timed_out = False
    repo_root = str(Path(__file__).resolve().parents[1])
    popen = dict(env=env, cwd=repo_root, start_new_session=True)
    tx_out, rx_src = ["--iq-out", ch_in], ["--iq-in", rx_in]
    if args.radio_dev is not None:
        common = ["--freq", str(args.freq), "--bandwidth", str(args.bandwidth)]
        tx_out = ["--radio", args.radio] + common + (
            ["--tx-atten", str(args.tx_atten)] if args.radio_dev.kind == "pluto" else
            ["--tx-gain", str(args.tx_gain)])
        rx_src = ["--radio", args.rx_radio or args.radio, "--agc", args.agc] + common + (
            ["--rx-gain", str(args.rx_gain)] if args.agc == "manual" else [])

    def stop_all(sig=signal.SIGTERM, grace=10.0):
        for proc in procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    failed: dict[str, int] = {}     # child -> return code, for children that failed
    # the RX's results come from its image records in its frame log (JSON lines, the
    # schema of sdr_rx.framelog), never from its human-readable output
    rx_log = JsonlTail(out / "rx" / "frames.jsonl")

    def show(recs):
        for rec in recs:
            if rec.get("event") == "image" and "image_id" in rec:
                bar.update(1)
                tqdm.write(f"true SNR {true_snr(truth_path, rec['image_id'])}  "
                           + image_line(rec))
    bar = tqdm(total=n, desc="loopback", unit="img", file=sys.stderr, leave=False)
    logs = {"rx": out / "rx.err", "channel": out / "channel.out", "tx": out / "tx.out"}
    try:    # from the first child on: a Ctrl-C at any moment stops them all, writes the summary
        with _signals_deferred():    # a Popen cut short by Ctrl-C would orphan its child
            procs["rx"] = subprocess.Popen(
                py + ["rx", *rx_src, "--model", args.model, "--out", str(out / "rx"),
                      *([] if getattr(args, "realtime", False) else
                        ["--reference", str(out / "originals")]), "--max-side", "0",
                      "--num-images", str(n),
                      "--idle-timeout", "20", "--samp-rate", str(args.samp_rate)]
                + (["--feedback", fb] if args.adaptive else []) + rx_record
                + ["--scheme", args.scheme],
                stdout=open(out / "rx.out", "w"), stderr=open(out / "rx.err", "w"), **popen)
            if args.radio_dev is None:
                procs["channel"] = subprocess.Popen(
                    py + ["channel", "--iq-in", ch_in, "--iq-out", rx_in, "--control", ctl,
                          "--seed", str(args.seed), "--samp-rate", str(args.samp_rate), "--truth",
                          str(truth_path)]
                    + (["--realtime"] if args.realtime else []) + ch_args,
                    stdout=open(out / "channel.out", "w"), stderr=subprocess.STDOUT, **popen)
        time.sleep(0.5 if args.radio_dev is None else 3.0)    # a radio RX takes longer to open
        with _signals_deferred():
            procs["tx"] = subprocess.Popen(
                py + ["tx", "--images", str(out / "originals"), *tx_out, "--model",
                      args.model, "--tx-snr", str(args.tx_snr), "--keep", str(args.keep),
                      "--frame-symbols", str(args.frame_symbols), "--max-side", "0", "--samp-rate",
                      str(args.samp_rate), "--log", str(tx_log), "--peer-timeout", "60"]
                + adaptive_tx
                + ["--scheme", args.scheme] + (["--mcs", args.mcs] if args.mcs else [])
                + tx_record,
                stdout=open(out / "tx.out", "w"), stderr=subprocess.STDOUT, **popen)
        deadline = time.monotonic() + args.timeout
        while True:
            rx_done = procs["rx"].poll() is not None
            show(rx_log.read())
            if rx_done:                     # the RX ended: it says how below
                for name, wait_s in (("rx", 30), ("tx", 10)):   # the TX writes its log
                    try:
                        procs[name].wait(timeout=wait_s)
                    except subprocess.TimeoutExpired:
                        pass
                show(rx_log.read())
                break
            time.sleep(0.2)
            # the channel never ends by itself; the TX ends, but with status 0
            for name in [k for k in ("channel", "tx") if k in procs]:
                rc = procs[name].poll()
                if rc is not None and (name == "channel" or rc != 0):
                    failed[name] = rc
            if failed:
                break
            if time.monotonic() > deadline:
                timed_out = True
                print(f"loopback: time-out after {args.timeout:g} s", file=sys.stderr)
                break
    except KeyboardInterrupt:
        interrupted = True
        print("loopback: interrupted, stopping TX, channel and RX", file=sys.stderr)
    finally:
        bar.close()
        ended = {name: proc.poll() for name, proc in procs.items()}
        # Ctrl-C: everything stops within 2 s; otherwise the channel may finish its logs
        stop_all(signal.SIGINT, 1.5) if interrupted else stop_all(signal.SIGTERM, 10.0)
    for name, rc in ended.items():     # a child that ended before we stopped it
        if rc is not None and (rc != 0 or name == "channel"):
            failed[name] = rc
    for name, rc in failed.items():
        last = _last_line(logs[name]) if rc > 0 else ""
        print(f"loopback: {name} {_describe(rc)}" + (f": {last}" if last else "") +
              f" (log: {logs[name]})", file=sys.stderr)
    summary = build_summary(args, out, originals, truth_path, tx_log, time.monotonic() - t0)
    if record is not None:
        _merge_truth(record, truth_path, summary, {
            k: v for k, v in vars(args).items() if k in IMPAIRMENTS and v not in (None, "")})
    _atomic_write(out / "summary.json", json.dumps(summary, indent=1))
    if interrupted:                  # stop within 2 s: the plot waits for a full run
        print("loopback: interrupted: report.png not written", file=sys.stderr)
    elif not summary["images"]:
        print("loopback: no image received: report.png not written", file=sys.stderr)
    else:
        try:
            report(summary, out)
        except Exception as exc:  # a report failure must not lose the summary
            print(f"loopback: report.png not written: {exc}", file=sys.stderr)
    print(f"loopback: {len(summary['images'])} images, mean PSNR {summary['mean_psnr_db']:.2f} dB"
          f", SSIM {summary['mean_ssim']:.3f}, frames {summary['frames_received']}/"
          f"{summary['frames_sent']}, {summary['total_symbols']} channel symbols (side frames "
          f"counted), "
          f"{summary['total_samples']} samples, {summary['wall_s']:.1f} s; wrote {out}")
    lag = summary["realtime_lag"]
    if lag["realtime"] and lag["per_image"]:
        print("loopback: behind real time per stage, max / growth over the images (ms): " +
              ", ".join(f"{st} {lag['max_ms'][st]} / {lag['growth_ms'][st]}"
                        for st in REALTIME_STAGES) +
              f"; latency first TX sample -> PNG median "
              f"{summary['latency_median_ms']['latency_ms']} ms")
    if interrupted:
        return 130
    if failed or timed_out:
        print(f"loopback: FAILED ({', '.join(failed) or 'time-out'})", file=sys.stderr)
        return 1
    return 0


# the channel emulator's options (argparse names): each impairment (channel.FLAGS, defined
# once there) and the SNR schedules (channel.KINDS)
CHANNEL_OPTIONS = tuple(f[2:].replace("-", "_") for f in FLAGS.values()) + tuple(
    f"snr_{k}" for k in KINDS)
IMPAIRMENTS = CHANNEL_OPTIONS + ("realtime",)


def _merge_truth(record: Path, truth_path: Path, summary: dict, channel: dict) -> None:
    """The emulator's truth (true SNR per frame, settings, seed) into the RX's recording."""
    from sdr_rx.recording import merge_truth

    meta = record / "rx.sigmf-meta"
    if not meta.exists():
        print(f"loopback: no recording in {record}", file=sys.stderr)
        return
    try:
        n = merge_truth(meta, truth_path, {**channel, "seed": summary["manifest"]["seed"],
                                           "tx_record": "tx"})
    except (OSError, ValueError) as exc:
        print(f"loopback: truth not merged into {meta}: {exc}", file=sys.stderr)
        return
    summary["recording"] = {"meta": str(meta), "tx_record": str(record / "tx"),
                            "annotations_with_truth": n}
    print(f"loopback: recorded {meta} ({n} frames with their true SNR), sent symbols in "
          f"{record / 'tx'}")


def score_after(images: list[dict], originals: list[Path], rx_dir: Path) -> int:
    """PSNR and SSIM of the received PNGs that the RX did not score (``--realtime``: the RX
    runs without references, as on the air, so evaluation takes none of the stream's CPU; the
    loopback scores them here, after the run, against the same originals). -> images scored."""
    from models.metrics import score
    from semcom.images import load_rgb

    n = 0
    for im in images:
        i = im["image_id"]
        if im.get("psnr_db") is not None or not im.get("file") or not 0 <= i < len(originals):
            continue
        path = Path(im["file"])
        path = path if path.is_absolute() else rx_dir / path
        try:
            got, ref = load_rgb(path), load_rgb(originals[i])
        except (OSError, ValueError):
            continue
        if got.shape != ref.shape:
            continue
        im.update(score(ref, got))
        n += 1
    return n


def build_summary(args, out: Path, originals, truth_path, tx_log, wall) -> dict:
    rx_sum = json.loads((out / "rx" / "summary.json").read_text()) \
        if (out / "rx" / "summary.json").exists() else {"counters": {}, "images": []}
    truth = _read_jsonl(truth_path)
    tx = _read_jsonl(tx_log)
    tx_images = {r["image_id"]: r for r in tx if "image_id" in r}
    tx_total = next((r for r in tx if "samples" in r), {})
    true_by_frame = {(t.get("image_id"), t.get("frame_idx")): t.get("snr_db") for t in truth}
    frames = [r for r in _read_jsonl(out / "rx" / "frames.jsonl") if r.get("event") == "frame"]
    joined = [dict(r, true_snr_db=true_by_frame.get((r["image_id"], r["frame_idx"])))
              for r in frames]
    _atomic_write(out / "frames.jsonl", "".join(json.dumps(r) + "\n" for r in joined))
    images = []
    for rec in rx_sum["images"]:
        i = rec["image_id"]
        t = [v for (img, _), v in true_by_frame.items() if img == i and v is not None]
        txr = tx_images.get(i, {})
        images.append({
            "name": originals[i].stem if i < len(originals) else str(i),
            "true_snr_db": float(10 * np.log10(np.mean(10 ** (np.array(t) / 10)))) if t
            else None,
            "snr_est_db": rec.get("snr_est_db", rec["est_snr_db"]),
            "est_snr_db": rec["est_snr_db"], "keep": rec["keep"], "symbols": rec["symbols"],
            "frames_sent": txr.get("frames", rec["frame_count"]),
            "frames_received": rec["frames_received"], "psnr_db": rec.get("psnr_db"),
            "ssim": rec.get("ssim"), "partial": rec["partial"], "mcs": rec.get("mcs"),
            "lost": bool(rec.get("lost", False)), "cause": rec.get("cause"),
            "policy_expected_psnr_db": txr.get("decision", {}).get("expected_psnr_db"),
            "policy_snr_db": txr.get("decision", {}).get("snr_used_db"),
            "policy_reason": txr.get("decision", {}).get("reason"),
            **_latency(rec, txr),
            "image_id": i, "_t_disk": _png_time(rec),
            "file": rec.get("file")})
    score_after(images, originals, out / "rx")
    lag = realtime_lag(images, tx_images, truth, frames, args.samp_rate)
    for im in images:
        im.pop("_t_disk", None)
    c = rx_sum["counters"]
    ps = [im["psnr_db"] for im in images if im["psnr_db"] is not None]
    ss = [im["ssim"] for im in images if im["ssim"] is not None]
    from models.checkpoint import peek
    return {
        "scheme": getattr(args, "scheme", "jscc"), "mcs": getattr(args, "mcs", "") or None,
        "images": images,
        "mean_psnr_db": float(np.mean(ps)) if ps else float("nan"),
        "mean_ssim": float(np.mean(ss)) if ss else float("nan"),
        "latency_median_ms": {k: (float(np.median(v)) if v else None) for k, v in (
            (k, [im[k] for im in images if im.get(k) is not None])
            for k in ("latency_ms", "latency_last_ms", "latency_encode_ms",
                      "decoded_to_disk_ms"))},
        # per stage, how far behind the air's schedule (see realtime_lag); meaningful with
        # --realtime (as fast as possible, every stage is "ahead")
        "realtime_lag": {"realtime": bool(getattr(args, "realtime", False)), **lag},
        "total_symbols": int(sum(t.get("symbols", 0) for t in tx_images.values())),
        "total_samples": int(tx_total.get("samples", 0)),
        "frames_sent": int(sum(t.get("frames", 0) for t in tx_images.values())),
        "frames_received": int(c.get("frames_decoded", 0)),
        "crc_failures": int(c.get("crc_fail", 0)),
        "counters": c,
        "wall_s": round(wall, 2),
        "manifest": {
            "model_hash": peek(args.model)["model_hash"], "seed": args.seed,
            "samp_rate": args.samp_rate, "snr_convention": CONVENTION,
            "channel": {k: v for k, v in vars(args).items() if k in (
                "snr", "snr_steps", "snr_ramp", "snr_walk", "snr_trace", "cfo_hz", "multipath",
                "fading", "doppler_hz") and v not in (None, "")},
            "tx_snr_db": args.tx_snr, "keep": args.keep or "all",
            "adaptive": ({"policy": args.policy, "target_psnr": args.target_psnr,
                          "budget_symbols": args.budget_symbols, "window": args.window}
                         if args.adaptive else None),
            "numerology": {"fft": nm.FFT_LEN, "cp": nm.CP_LEN, "data_carriers": nm.N_DATA,
                           "pilots": list(nm.PILOT_CARRIERS), "header_symbols":
                           nm.HEADER_SYMBOLS, "frame_symbols": args.frame_symbols,
                           "guard": nm.DEFAULT_GUARD, "tx_rms": nm.DEFAULT_TX_RMS},
            "versions": versions()},
    }


def report(summary: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    ims = summary["images"]
    k = max(1, len(ims))
    fig = plt.figure(figsize=(2.6 * k, 7.5))
    origs = sorted((out / "originals").glob("*.png"))
    for j, im in enumerate(ims):
        ax = fig.add_subplot(3, k, j + 1)
        if j < len(origs):
            ax.imshow(Image.open(origs[j]))
        ax.set_title(im["name"][:22], fontsize=7)
        ax.axis("off")
        ax = fig.add_subplot(3, k, k + j + 1)
        if im.get("file") and Path(im["file"]).exists():
            ax.imshow(Image.open(im["file"]))
        ps = f"{im['psnr_db']:.1f} dB" if im["psnr_db"] is not None else "?"
        ax.set_title(f"received {ps}{' partial' if im['partial'] else ''}", fontsize=7)
        ax.axis("off")
    ax = fig.add_subplot(3, 1, 3)
    x = np.arange(len(ims))
    ax.plot(x, [im["true_snr_db"] for im in ims], "o-", label="true SNR (dB)")
    ax.plot(x, [im["est_snr_db"] for im in ims], "x--", label="estimated SNR (dB)")
    ax.plot(x, [im["psnr_db"] for im in ims], "s-", label="PSNR (dB)")
    ax.plot(x, [im["keep"] for im in ims], "d:", label="keep (channels)")
    ax.set_xlabel("image")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    tmp = out / "report.tmp.png"
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(out / "report.png")
