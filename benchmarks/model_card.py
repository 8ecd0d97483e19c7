"""Write the shipped checkpoint's model card from a training run and the model benchmark.

    python -m benchmarks.model_card --run runs/main [--run runs/ft ...] \\
        --bench-log runs/bench_model.txt
    python -m benchmarks.model_card --prior-log models/checkpoints/training_log.csv \\
        --run runs/device --bench-log runs/bench_model.txt

``--prior-log`` continues the committed history (the merged log of the runs before, which a
fresh machine no longer has) with new runs, e.g. a fine-tune on a lent GPU.

Copies the training log beside the checkpoint, plots held-out PSNR (10 dB, 256x256 centre
crops, full and half keep) against training time, and writes ``MODEL_CARD.md`` with the
numbers of ``benchmarks.model``'s output.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from models.checkpoint import CHECKPOINT_DIR, peek


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


def carry_ablations(bench: str, old_card: Path) -> str:
    """The ablation lines of the previous card, when this benchmark run did not redo them:
    they compare separate 4000-step runs and do not depend on the shipped checkpoint."""
    if not old_card.exists() or ABLATIONS not in old_card.read_text():
        return bench
    lines = old_card.read_text().split(ABLATIONS, 1)[1].splitlines()
    block = [ABLATIONS + lines[0] + " [carried over from the previous model card]"]
    for ln in lines[1:]:
        if not ln.startswith("  "):
            break
        block.append(ln)
    head, sep, tail = bench.rpartition("\ngolden:")
    return (head + "\n" + "\n".join(block) + "\n" + sep + tail) if sep else \
        bench.rstrip() + "\n\n" + "\n".join(block) + "\n"


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, action="append",
                   help="training run folder; repeat for fine-tuning continuations, in order")
    p.add_argument("--prior-log", default=None,
                   help="merged log of the runs before (models/checkpoints/training_log.csv)")
    p.add_argument("--bench-log", default="runs/bench_model.txt")
    p.add_argument("--model", default="default")
    args = p.parse_args(argv)
    meta = peek(args.model)
    runs = [Path(r) for r in (args.run or ["runs/main"])]
    log = merged_log(runs, Path(args.prior_log) if args.prior_log else None)
    with open(CHECKPOINT_DIR / "training_log.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(log[0].keys()))
        w.writeheader()
        w.writerows(log)
    rows = plot_curve(log, CHECKPOINT_DIR / "training_curve.png")
    tr = meta["training"]
    total_h = float(log[-1]["elapsed_s"]) / 3600
    init_note = f" (of the last run; it started from {tr['init']})" if tr.get("init") else ""
    rc = tr["recipe"]
    crops = (f"crops {rc['crop']} px" if rc["crop"] == rc["crop_late"] else
             f"crops {rc['crop']} px for the first {int(rc['crop_switch'] * 100)} % of "
             f"{'the time' if rc.get('schedule') == 'time' else 'steps'}, "
             f"then {rc['crop_late']} px")
    phases = ", then ".join(dict.fromkeys(r["run"] for r in log))
    steps_text = (f"{tr.get('steps')} steps" if rc.get("schedule") != "time" else
                  f"{tr.get('steps')} steps in {tr.get('wall_hours', 0) * 60:.0f} training "
                  f"minutes (learning-rate and crop schedules spanning a budget of "
                  f"{rc.get('time_budget_min'):g}; stopped when it was spent or on SIGTERM)")
    bench = Path(args.bench_log).read_text()
    if ABLATIONS not in bench:
        bench = carry_ablations(bench, CHECKPOINT_DIR / "MODEL_CARD.md")
    golden = json.loads((CHECKPOINT_DIR / "golden.json").read_text())
    curve = "\n".join(f"| {r['step']} | {float(r['elapsed_s']) / 3600:.2f} | {r['val_psnr_full']}"
                      f" | {r['val_psnr_half']} |" for r in rows)
    card = f"""# Model card: `default` (afjscc, {meta['model_hash']})

The checkpoint `semcom` ships and uses unless told otherwise (`models/checkpoints/
afjscc-default.pt`, fp16 weights, {(CHECKPOINT_DIR / 'afjscc-default.pt').stat().st_size / 1e6:.1f}
MB). Architecture `afjscc` with config `{json.dumps(meta['config'])}`: C = {meta['C']} complex
latent channels at H/8, full-keep bandwidth ratio {meta['ratio']:.4f} (1/6), SNR input range
{meta['snr_range'][0]:g}..{meta['snr_range'][1]:g} dB, keep from C/8 to C.

## Training

- Data: the 17 built-in training photos: astronaut, chelsea, hubble_deep_field,
  immunohistochemistry, retina (scikit-image), flower (scikit-learn) and 11 photographic
  Debian wallpapers (see README); random crops at random scales, flips, light colour jitter.
  Held-out (never trained on): coffee, rocket, china, EveningGlow, Path.
- Recipe{init_note}: {steps_text} of batch {tr.get('batch')}; {crops};
  Adam, lr {rc['lr']} with {rc.get('warmup', 200)}-step warm-up and cosine decay; per image a
  random SNR in
  {tr['snr'][0]}..{tr['snr'][1]} dB, keep = C with probability {rc['full_keep_prob']} else
  uniform in C/8..C, channel mix `{tr['channels']}`;
  MSE loss; seed {tr.get('seed')}. The first run (`main`) started with a 36000-step
  schedule and was resumed at step 3436 with 24000 to fit the session (the cosine schedule is
  flat there: learning rate 0.98e-3 either way).
- Compute: {total_h:.2f} hours in all: {compute_text(log)}; in the runs {phases}. The merged
  log is `training_log.csv`.

## PSNR against training time

Held-out photos, 256x256 centre crops, AWGN at 10 dB (the training-time validation):

![curve](training_curve.png)

| step | hours | PSNR full keep | PSNR keep 16 |
|---|---|---|---|
{curve}

The quality targets below are limited by the training compute this model had (see Compute
above; each run's learning rate decayed to its floor, so the flat ends of the curve are
schedule ends, not the architecture's limit). Ablations share a budget of 4000 steps (same
data, batch, crops and schedule): the default architecture at its step-4000 snapshot, the
2019 architecture, and the default architecture trained only at 10 dB and full keep.

## Measured (`python -m benchmarks.model`, held-out photos at full size)

![eval](eval.png)

```
{bench.strip()}
```

Golden check (tests/test_models.py): {golden['image']} at {golden['snr_db']} dB, seed
{golden['seed']}, full keep: {golden['psnr_db']} dB.
"""
    (CHECKPOINT_DIR / "MODEL_CARD.md").write_text(card)
    print(f"wrote {CHECKPOINT_DIR / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
