"""Write the model card of the shipped default (any architecture) and of every registered model.

    python -m benchmarks.model_card --bench-log runs/bench_model.txt \\
        --curves default=runs/card/default.json,afjscc=runs/card/afjscc.json
    python -m benchmarks.model_card --bench-log runs/bench_model.txt --eval default,afjscc
    python -m benchmarks.model_card --prior-log models/checkpoints/training_log.csv \\
        --run runs/device --bench-log runs/bench_model.txt --eval default,afjscc

Writes ``models/checkpoints/MODEL_CARD.md``: the default's architecture, config, hash, file and
what it is (its training, or for a model without trainable weights its design, from the
module docstring, and its side information); the numbers of a ``benchmarks.model`` log
(``--bench-log``; a placeholder when the file is missing) and the golden value; a table of
every architecture in the registry (parameters, shipped checkpoint, training compute, held-out
PSNR at full keep over SNR, AWGN) with their curves in ``models.png``; and the training history
of the trained baseline (``training_log.csv`` plotted as ``training_curve.png``).

Curves: ``--curves NAME=FILE,...`` takes the JSON files of ``semcom eval --model X
--no-baselines --snr 0,5,10,15,20 --out FILE``; ``--eval NAME,...`` runs those evaluations
here (one thread each, into ``--eval-dir``). A curve belongs to the architecture its JSON
names. A registered architecture without a shipped checkpoint can have an experiment log,
``models/checkpoints/experiments/<arch>_log.csv``; its training compute comes from there (or
from the checkpoint its curve was measured on).

``--run`` (optional) continues the committed history with new training runs: with
``--prior-log`` the merged log of the runs before (which a fresh machine no longer has), e.g. a
fine-tune on a lent GPU; ``training_log.csv`` is then rewritten. Without ``--run`` the history
section is regenerated from the committed ``training_log.csv`` alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

from models.checkpoint import CHECKPOINT_DIR, SHIPPED, peek

SNRS = (0.0, 5.0, 10.0, 15.0, 20.0)
EXPERIMENTS = CHECKPOINT_DIR / "experiments"


def run_device(run: Path) -> str:
    """Where a run trained: its checkpoint's device name ("cpu" or the GPU's name)."""
    try:
        return str(peek(run / "model.pt").get("training", {}).get("device_name") or "cpu")
    except Exception:            # no or unreadable checkpoint in the folder: say so
        return "unknown"


def merged_log(runs: list[Path], prior: Path | None = None) -> list[dict]:
    """The logs of a run and its fine-tuning continuations, steps and time made cumulative,
    after the rows of ``prior`` (an earlier merged log) when given."""
    out, step0, t0 = [], 0, 0.0
    if prior is not None:        # read whole: the caller may rewrite that file afterwards
        with open(prior, newline="") as f:
            out = [dict(r, device=r.get("device") or "cpu") for r in csv.DictReader(f)]
        if out:
            step0, t0 = int(out[-1]["step"]), float(out[-1]["elapsed_s"])
    for run in runs:
        rows = list(csv.DictReader(open(run / "log.csv")))
        dev = run_device(run)
        for r in rows:
            out.append(dict(r, step=str(int(r["step"]) + step0),
                            elapsed_s=f"{float(r['elapsed_s']) + t0:.1f}", run=run.name,
                            device=dev))
        if rows:
            step0 += int(rows[-1]["step"])
            t0 += float(rows[-1]["elapsed_s"])
    return out


def compute_text(log: list[dict]) -> str:
    """Hours per device, from the cumulative log (each run's last row ends its time)."""
    per, last_t = {}, 0.0
    ends = {}
    for r in log:
        ends[r["run"]] = (float(r["elapsed_s"]), r["device"])
    for t, dev in ends.values():
        per[dev] = per.get(dev, 0.0) + t - last_t
        last_t = t
    parts = []
    for dev, sec in per.items():
        if dev == "cpu":
            parts.append(f"{sec / 3600:.2f} hours on the CPU (2 torch threads on a 2-core "
                         "machine shared with development and tests)")
        else:
            parts.append(f"{sec / 60:.1f} minutes on {dev}")
    return "; ".join(parts)


ABLATIONS = "equal-compute ablations"
CARRIED = " [carried over from the previous model card]"


def carry_ablations(bench: str, old_card: Path) -> str:
    """The ablation lines of the previous card, when this benchmark run did not redo them:
    they compare separate 4000-step runs and do not depend on the shipped checkpoint."""
    if not old_card.exists() or ABLATIONS not in old_card.read_text():
        return bench
    lines = old_card.read_text().split(ABLATIONS, 1)[1].splitlines()
    block = [ABLATIONS + lines[0] + ("" if CARRIED.strip() in lines[0] else CARRIED)]
    for ln in lines[1:]:
        if not ln.startswith("  "):
            break
        block.append(ln)
    head, sep, tail = bench.rpartition("\ngolden:")
    return (head + "\n" + "\n".join(block) + "\n" + sep + tail) if sep else \
        bench.rstrip() + "\n\n" + "\n".join(block) + "\n"


def split_ablations(bench: str) -> tuple[str, str]:
    """``bench`` -> (the text without its ablation block, the block or "")."""
    if ABLATIONS not in bench:
        return bench, ""
    lines = bench.splitlines()
    i = next(n for n, ln in enumerate(lines) if ABLATIONS in ln)
    j = i + 1
    while j < len(lines) and lines[j].startswith("  "):
        j += 1
    rest = lines[:i] + lines[j:]
    return "\n".join(rest).replace("\n\n\n", "\n\n").strip() + "\n", "\n".join(lines[i:j])


def read_curve(path: Path) -> dict:
    """A ``semcom eval`` JSON -> {arch, hash, path, wall_s, seed, channel, images, psnr:
    {snr: dB}} at the largest keep it measured (full keep with the default ``--keep``)."""
    doc = json.loads(Path(path).read_text())
    rows = [r for r in doc["results"] if r["method"] == "model"]
    if not rows:
        raise ValueError(f"{path}: no 'model' results")
    keep = max(r["keep"] for r in rows)
    m = doc["model"]
    return {"arch": m["arch"], "hash": m["model_hash"], "path": m.get("path"),
            "wall_s": doc.get("wall_s"), "seed": doc.get("seed"), "keep": keep,
            "channel": doc.get("channel", "awgn"), "images": doc.get("images", []),
            "psnr": {float(r["snr_db"]): float(r["mean_psnr_db"])
                     for r in rows if r["keep"] == keep}}


def parse_curves(spec: str) -> dict[str, Path]:
    """``name=file,name=file`` -> {name: path}."""
    out = {}
    for item in filter(None, (s.strip() for s in (spec or "").split(","))):
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"model_card: --curves {item!r}: expected NAME=FILE")
        out[name] = Path(path)
    return out


def run_evals(names: list[str], folder: Path, threads: int = 1) -> dict[str, Path]:
    """``semcom eval --no-baselines --snr 0,5,10,15,20`` for each checkpoint name or path (once
    per model hash) -> {label: JSON file}."""
    from models import evaluate
    from semcom.cli import eval as eval_cli

    folder.mkdir(parents=True, exist_ok=True)
    out, seen = {}, set()
    for name in names:
        label = Path(name).stem if name not in SHIPPED else name
        digest = peek(name)["model_hash"]
        if digest in seen:       # e.g. "softcast" when it is also the default
            continue
        seen.add(digest)
        path = folder / f"{label}.json"
        p = argparse.ArgumentParser()
        eval_cli.add_arguments(p)
        evaluate.run(p.parse_args(["--model", name, "--no-baselines", "--quiet",
                                   "--snr", ",".join(f"{s:g}" for s in SNRS),
                                   "--threads", str(threads), "--out", str(path)]))
        out[label] = path
    return out


def param_count(arch: str, config: dict | None = None) -> int:
    from models.registry import create

    m = create(arch, **(config or {}))
    return sum(p.numel() for p in m.parameters())


def fmt_params(n: int) -> str:
    return "0" if n == 0 else f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def side_text(arch: str, config: dict, size: int = 256) -> str:
    """Side information of a model per ``size`` x ``size`` image, or "" when it has none."""
    from models.registry import create
    from semcom.sideinfo import n_symbols

    m = create(arch, **config)
    if not m.side_bits:
        return ""
    sym = n_symbols(m.side_bits)
    payload = m.symbols_per_channel(size, size) * m.C
    return (f"{m.side_bits} bits per image -> {sym} channel symbols (CRC-32, rate-1/2 "
            f"convolutional code, BPSK, in the side frame of `semcom.sideinfo`), "
            f"{100 * sym / payload:.1f} % of the {payload}-symbol full-keep payload at "
            f"{size}x{size} (less of larger images: it does not grow with the image)")


def design_text(arch: str) -> tuple[str, str]:
    """The architecture's module docstring without its title line, as a Markdown quote."""
    from models.registry import architecture

    mod = sys.modules[architecture(arch).__module__]
    doc = (mod.__doc__ or "").strip().split("\n", 1)
    body = doc[1].strip() if len(doc) > 1 else doc[0]
    return "\n".join(("> " + ln) if ln else ">" for ln in body.splitlines()), mod.__name__


def trained(meta: dict) -> bool:
    return int(meta.get("training", {}).get("steps") or 0) > 0


def recipe_text(meta: dict, log: list[dict] | None) -> str:
    """The training bullet list of a trained checkpoint (its metadata, its merged log)."""
    tr = meta["training"]
    rc = tr.get("recipe", {})
    init_note = f" (of the last run; it started from {tr['init']})" if tr.get("init") else ""
    crops = (f"crops {rc.get('crop')} px" if rc.get("crop") == rc.get("crop_late") else
             f"crops {rc.get('crop')} px for the first {int(rc.get('crop_switch', 0) * 100)} % "
             f"of {'the time' if rc.get('schedule') == 'time' else 'steps'}, "
             f"then {rc.get('crop_late')} px")
    steps_text = (f"{tr.get('steps')} steps" if rc.get("schedule") != "time" else
                  f"{tr.get('steps')} steps in {tr.get('wall_hours', 0) * 60:.0f} training "
                  f"minutes (learning-rate and crop schedules spanning a budget of "
                  f"{rc.get('time_budget_min'):g}; stopped when it was spent or on SIGTERM)")
    runs = list(dict.fromkeys(r["run"] for r in log)) if log else []
    resumed = (" The first run (`main`) started with a 36000-step schedule and was resumed "
               "at step 3436 with 24000 to fit the session (the cosine schedule is flat "
               "there: learning rate 0.98e-3 either way).") if "main" in runs else ""
    if log:
        total_h = float(log[-1]["elapsed_s"]) / 3600
        compute = (f"{total_h:.2f} hours in all: {compute_text(log)}; in the runs "
                   f"{', then '.join(runs)}. The merged log is `training_log.csv`.")
    else:
        compute = (f"{tr.get('wall_hours', 0):.2f} hours on {tr.get('device_name') or 'cpu'}"
                   f" ({tr.get('threads', '?')} threads).")
    return f"""- Data: `{tr.get('data')}`: the built-in training photos (see README, "Models"),
  random crops at random scales, flips, light colour jitter. Held-out (never trained on):
  coffee, rocket, china, EveningGlow, Path.
- Recipe{init_note}: {steps_text} of batch {tr.get('batch')}; {crops};
  Adam, lr {rc.get('lr')} with {rc.get('warmup', 200)}-step warm-up and cosine decay; per
  image a random SNR in {tr['snr'][0]}..{tr['snr'][1]} dB, keep = C with probability
  {rc.get('full_keep_prob')} else uniform in C/8..C, channel mix `{tr.get('channels')}`;
  MSE loss; seed {tr.get('seed')}.{resumed}
- Compute: {compute}"""


def plot_curve(all_rows: list[dict], out_png: Path) -> list[dict]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in all_rows if r.get("val_psnr_full")]
    t = [float(r["elapsed_s"]) / 3600 for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(t, [float(r["val_psnr_full"]) for r in rows], "o-", label="full keep (32)")
    ax.plot(t, [float(r["val_psnr_half"]) for r in rows], "s--", label="keep 16")
    ax2 = ax.twiny()
    ax2.set_xlim(ax.get_xlim())
    ticks = ax.get_xticks()
    steps = [int(r["step"]) for r in rows]
    ax2.set_xticks(t[::max(1, len(t) // 6)])
    ax2.set_xticklabels([str(s) for s in steps[::max(1, len(t) // 6)]], fontsize=7)
    ax2.set_xlabel("step")
    ax.set_xticks(ticks)
    ax.set_xlabel("training time (CPU hours, 2 cores shared)")
    ax.set_ylabel("held-out PSNR at 10 dB (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return rows


def plot_models(curves: dict[str, dict], out_png: Path, title: str) -> None:
    """All curves (held-out PSNR at full keep over SNR) in one figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for (name, c), style in zip(curves.items(), ("o-", "s--", "^-.", "d:", "v-", "x--"),
                                strict=False):
        snrs = sorted(c["psnr"])
        what = c["arch"] if name == c["arch"] else f"{name}: {c['arch']}"
        ax.plot(snrs, [c["psnr"][s] for s in snrs], style, label=f"{what} ({c['hash'][:8]})")
    ax.set_xticks(sorted({s for c in curves.values() for s in c["psnr"]}))
    ax.set_xlabel("SNR (dB, AWGN, Es/N0 per symbol)")
    ax.set_ylabel("mean PSNR (dB)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def experiment_compute(arch: str, curve: dict | None) -> tuple[str, str]:
    """(training-compute text, note) of an unshipped architecture: its experiment log and,
    when its curve's checkpoint is still here, that checkpoint's metadata."""
    log_path = EXPERIMENTS / f"{arch}_log.csv"
    meta = None
    if curve and curve.get("path") and Path(curve["path"]).is_file():
        try:
            meta = peek(curve["path"])
        except Exception:
            meta = None
    if not log_path.exists() and meta is None:
        return "none", ""
    rows = list(csv.DictReader(open(log_path))) if log_path.exists() else []
    tr = (meta or {}).get("training", {})
    steps = tr.get("steps") or (f"{rows[-1]['step']} (last logged)" if rows else "?")
    hours = tr.get("wall_hours") or (float(rows[-1]["elapsed_s"]) / 3600 if rows else 0)
    dev = tr.get("device_name") or "cpu"
    threads = f", {tr['threads']} thread{'s' if tr['threads'] != 1 else ''}" \
        if tr.get("threads") else ""
    text = (f"{hours:.2f} h on {'the CPU' if dev == 'cpu' else dev}{threads}, {steps} steps "
            f"(experiment)")
    val = [r for r in rows if r.get("val_psnr_full")]
    note = ""
    if log_path.exists():
        rel = log_path.relative_to(CHECKPOINT_DIR)
        note = f"log `{rel}`"
        if val:
            note += (f"; its last validation (step {val[-1]['step']}, 10 dB, 256-px held-out "
                     f"centre crops): {val[-1]['val_psnr_full']} dB full keep, "
                     f"{val[-1]['val_psnr_half']} dB keep 16")
    return text, note


def ablation_note(block: str, arch: str) -> str:
    """The ablation line of an architecture trained only for the ablations, if any."""
    for ln in block.splitlines()[1:]:
        parts = ln.split()
        if len(parts) > 2 and parts[0] == arch and parts[1] == arch:
            return "equal-compute ablation run: " + " ".join(parts[2:])
    return ""


def registry_table(default_meta: dict, curves: dict[str, dict], ablations: str,
                   history: tuple[str, list[dict]] | None) -> tuple[str, list[str]]:
    """The "every model" table and its notes."""
    from models.registry import available

    shipped: dict[str, list[tuple[str, dict]]] = {}
    for name, path in SHIPPED.items():
        if path.exists():
            m = peek(name)
            shipped.setdefault(m["arch"], []).append((name, m))
    by_arch: dict[str, tuple[str, dict]] = {}
    for label, c in curves.items():     # first curve of each architecture; the default first
        by_arch.setdefault(c["arch"], (label, c))
    head = ("| model | parameters | shipped checkpoint | training compute | "
            + " | ".join(f"{s:g} dB" for s in SNRS) + " |")
    lines = [head, "|" + "---|" * (4 + len(SNRS))]
    notes = []
    archs = sorted(available().items(), key=lambda kv: kv[0] != default_meta["arch"])
    for arch, desc in archs:
        ships = shipped.get(arch, [])
        label, curve = by_arch.get(arch, (None, None))
        ckpt = curve.get("path") if curve else None
        parts = []
        if ships:
            meta = ships[0][1]
            config = meta["config"]
            files = ", ".join(f"`{n}` ({Path(m['path']).name}, {m['model_hash']})"
                              for n, m in ships)
            tr = meta.get("training", {})
            if not trained(meta):
                compute = "0 (no training, no data)"
            elif history and history[0] == arch and history[1]:
                compute = (f"{float(history[1][-1]['elapsed_s']) / 3600:.2f} h in all "
                           f"({'/'.join(sorted({r['device'] for r in history[1]}))}, "
                           f"`training_log.csv`)")
            else:
                compute = (f"{tr.get('wall_hours', 0):.2f} h on "
                           f"{tr.get('device_name') or 'cpu'}")
            if curve and curve["hash"] not in {m["model_hash"] for _, m in ships}:
                parts.append(f"curve measured on {curve['hash']} (`{label}`)")
        else:
            files, config = "none", None
            if ckpt and Path(ckpt).is_file():
                try:
                    config = peek(ckpt)["config"]
                except Exception:
                    config = None
                parts.append(f"not shipped; curve of the checkpoint `{ckpt}` "
                             f"({curve['hash']}, not in the repository)")
            elif curve:
                parts.append(f"not shipped; curve of {curve['hash']} (`{label}`)")
            compute, note = experiment_compute(arch, curve)
            if note:
                parts.append(note)
            abl = ablation_note(ablations, arch)
            if abl:
                parts.append(abl)
                if compute == "none":
                    compute = "ablation runs only (below)"
        params = fmt_params(param_count(arch, config))
        psnr = ([f"{curve['psnr'][s]:.2f}" if s in curve["psnr"] else "-" for s in SNRS]
                if curve else ["-"] * len(SNRS))
        name = f"`{arch}`" + (" (default)" if arch == default_meta["arch"] else "")
        lines.append(f"| {name} | {params} | {files} | {compute} | " + " | ".join(psnr) + " |")
        if not curve:
            parts.append("no curve given" if ships else "no checkpoint here, no curve")
        elif arch != default_meta["arch"] and default_meta["arch"] in by_arch:
            ref = by_arch[default_meta["arch"]][1]["psnr"]
            diff = [f"{s:g} dB {curve['psnr'][s] - ref[s]:+.2f}" for s in SNRS
                    if s in curve["psnr"] and s in ref]
            if diff:
                parts.append(f"minus the default: {', '.join(diff)}")
        note = "; ".join(parts)
        notes.append(f"- `{arch}`: {desc}." + (f" {note[0].upper() + note[1:]}." if note else ""))
    return "\n".join(lines), notes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, action="append",
                   help="training run folder continuing the history; repeat for "
                        "fine-tuning continuations, in order (optional)")
    p.add_argument("--prior-log", default=None,
                   help="merged log of the runs before (models/checkpoints/training_log.csv)")
    p.add_argument("--bench-log", default="runs/bench_model.txt",
                   help="output of python -m benchmarks.model (placeholder when missing)")
    p.add_argument("--model", default="default")
    p.add_argument("--curves", default="",
                   help="NAME=FILE,...: semcom eval JSONs (--no-baselines --snr 0,5,10,15,20)")
    p.add_argument("--eval", default="",
                   help="NAME,...: checkpoints to evaluate here for the curves (minutes each)")
    p.add_argument("--eval-dir", default="runs/card_eval")
    p.add_argument("--threads", type=int, default=1, help="threads for --eval")
    p.add_argument("--out-dir", default=str(CHECKPOINT_DIR),
                   help="where the card, its PNGs and (with --run) training_log.csv go")
    p.add_argument("--history-model", default=None,
                   help="checkpoint whose training history training_log.csv is (default: "
                        "'default' when it was trained or with --run, else 'afjscc')")
    args = p.parse_args(argv)
    meta = peek(args.model)
    path = Path(meta["path"])
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    old_card = out_dir / "MODEL_CARD.md"
    old_card = old_card if old_card.exists() else CHECKPOINT_DIR / "MODEL_CARD.md"

    # the training history (the committed log, continued with --run)
    log_csv = CHECKPOINT_DIR / "training_log.csv"
    if args.run:
        log = merged_log([Path(r) for r in args.run],
                         Path(args.prior_log) if args.prior_log else None)
        with open(out_dir / "training_log.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(log[0].keys()))
            w.writeheader()
            w.writerows(log)
    else:
        log = merged_log([], Path(args.prior_log) if args.prior_log else log_csv) \
            if (args.prior_log or log_csv.exists()) else []
    hist_name = args.history_model or ("default" if args.run or trained(meta) else "afjscc")
    hist_meta = None
    if log:
        try:
            hist_meta = peek(hist_name)
        except Exception as exc:
            print(f"model_card: no training history section ({exc})")
    history = (hist_meta["arch"], log) if hist_meta else None

    # curves
    files = parse_curves(args.curves)
    if args.eval:
        files.update(run_evals([n.strip() for n in args.eval.split(",") if n.strip()],
                               Path(args.eval_dir), args.threads))
    curves = {name: read_curve(f) for name, f in files.items()}
    curves = dict(sorted(curves.items(), key=lambda kv: kv[1]["hash"] != meta["model_hash"]))
    if curves:
        plot_models(curves, out_dir / "models.png",
                    "held-out photos at full size, full keep, AWGN")

    # benchmark log, ablations, golden value
    bench_path = Path(args.bench_log)
    if bench_path.exists():
        bench = bench_path.read_text()
        eval_png = bench_path.with_suffix("") / "eval.png"    # benchmarks.model --out
        if eval_png.exists():
            shutil.copyfile(eval_png, out_dir / "eval.png")
    else:
        bench = (f"(no benchmark log: {bench_path} is missing; the model benchmark of this "
                 f"default is `python -m benchmarks.model`)\n")
        eval_png = None
    bench, ablations = split_ablations(carry_ablations(bench, old_card))
    golden = json.loads((CHECKPOINT_DIR / "golden.json").read_text())
    golden_note = "" if golden.get("model_hash") == meta["model_hash"] else (
        f"\n\n**Stale:** `golden.json` is the golden value of {golden.get('model_hash')}, not "
        f"of this default ({meta['model_hash']}); rewrite it with `python -m benchmarks.model "
        f"--golden models/checkpoints/golden.json`.")

    # the default
    arch, cfg = meta["arch"], meta["config"]
    n_params = param_count(arch, cfg)
    size = path.stat().st_size
    size_text = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size} bytes"
    lo, hi = meta["snr_range"]
    if trained(meta):
        what = ("## Training\n\n" + recipe_text(meta, log if hist_name == "default" else None)
                + ("\n\nIts training history is below." if hist_name == "default" else ""))
    else:
        quote, module = design_text(arch)
        what = (f"## What it is\n\nNo training and no data: {n_params} trainable parameters; "
                f"the checkpoint holds the architecture's name and config (and the model "
                f"hash that identifies it in every radio header). The design, from the "
                f"docstring of `{module}`:\n\n{quote}")
    side = side_text(arch, cfg)
    if side:
        what += f"\n\nSide information: {side}."
    table, notes = registry_table(meta, curves, ablations, history)
    ref = next(iter(curves.values()), None)
    curve_src = ("" if ref is None else
                 f" over {len(ref['images'])} held-out photos at full size "
                 f"({', '.join(ref['images'])}), {ref['channel']}, seed {ref['seed']}")
    missing = "" if curves else ("\n\nNo curves were given: run `python -m "
                                 "benchmarks.model_card --eval default,afjscc` (or pass "
                                 "`--curves`) for the PSNR columns.")
    measured = ("![eval](eval.png)\n\n" if eval_png is not None and eval_png.exists() else "")

    hist = ""
    if history:
        rows = plot_curve(log, out_dir / "training_curve.png")
        curve_rows = "\n".join(
            f"| {r['step']} | {float(r['elapsed_s']) / 3600:.2f} | {r['val_psnr_full']} | "
            f"{r['val_psnr_half']} |" for r in rows)
        who = ("the default" if hist_name == "default" else
               f"the baseline `{hist_name}` ({Path(hist_meta['path']).name}, "
               f"{hist_meta['model_hash']})")
        hist = f"""
## Training history of {who}

Architecture `{hist_meta['arch']}`, config `{json.dumps(hist_meta['config'])}`.

{recipe_text(hist_meta, log)}

Held-out photos, 256x256 centre crops, AWGN at 10 dB (the training-time validation):

![curve](training_curve.png)

| step | hours | PSNR full keep | PSNR keep 16 |
|---|---|---|---|
{curve_rows}

These numbers are limited by the training compute this model had (each run's learning rate
decayed to its floor, so the flat ends of the curve are schedule ends, not the architecture's
limit).
"""
        if ablations:
            hist += f"""
Ablations shared a budget of 4000 steps (same data, batch, crops and schedule): `afjscc` at
its step-4000 snapshot (`main`), the 2019 architecture, and `afjscc` trained only at 10 dB and
full keep (PSNR on the held-out photos at full size):

```
{ablations}
```
"""
    elif ablations:
        hist = f"\n## Ablations\n\n```\n{ablations}\n```\n"

    card = f"""# Model card: `{args.model}` ({arch}, {meta['model_hash']})

The checkpoint `semcom` ships and uses unless told otherwise: `models/checkpoints/{path.name}`
({size_text}). Architecture `{arch}` with config `{json.dumps(cfg)}`: {fmt_params(n_params)}
parameters; C = {meta['C']} complex latent channels at H/{meta['down']}, full-keep bandwidth
ratio {meta['ratio']:.4f}, SNR input range {lo:g}..{hi:g} dB, keep from C/8 to C.

{what}

## Measured (`python -m benchmarks.model`, held-out photos at full size)

{measured}```
{bench.strip()}
```

Golden check (tests/qa_models.py): {golden['image']} at {golden['snr_db']} dB, seed
{golden['seed']}, keep {golden.get('keep')}: {golden['psnr_db']} dB
(model {golden.get('model_hash')}).{golden_note}

## Every model in the registry

Mean PSNR (dB) at full keep over SNR{curve_src}, from `semcom eval --no-baselines
--snr 0,5,10,15,20`:

{table}

{chr(10).join(notes)}{missing}

{"![models](models.png)" if curves else ""}
{hist}"""
    (out_dir / "MODEL_CARD.md").write_text(card.rstrip() + "\n")
    print(f"wrote {out_dir / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
