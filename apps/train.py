"""``semcom train``: train a JSCC model (:class:`models.train.Trainer`, whose docstring has the
recipe and the files it writes), or with ``--finetune-real DS`` fit the receiver's adaptation on
a recorded dataset (:mod:`sdr_rx.rx_adapt`; the transmitter is unchanged).

Every option is checked before any work starts (one line, exit 2). Also runs as ``python -m
semcom.cli.train`` and under ``torchrun --nproc_per_node N -m semcom.cli.train`` (DDP).
"""

from __future__ import annotations

import json
import os

from models.train import Trainer


def check_args(args) -> None:
    """Every numeric option finite and in range, the output folder makeable, before work
    starts (one line and exit 2 from the CLI)."""
    from semcom import validate as v

    args.steps = v.integer("--steps", args.steps, 0, 10**9, "steps (0: --time-budget-min)")
    args.batch = v.integer("--batch", args.batch, 1, 65536, "images")
    args.crop = v.integer("--crop", args.crop, 8, 8192, "px")
    args.crop_late = v.integer("--crop-late", args.crop_late, 8, 8192, "px")
    args.crop_switch = v.finite("--crop-switch", args.crop_switch, 0, 1, "of the run")
    args.lr = v.positive("--lr", args.lr, 10.0)
    args.warmup = v.integer("--warmup", args.warmup, 0, 10**9, "steps")
    args.snr_min = v.snr("--snr-min", args.snr_min)
    args.snr_max = v.snr("--snr-max", args.snr_max)
    if args.snr_max < args.snr_min:
        raise v.OptionError(f"--snr-max {args.snr_max:g} dB is below --snr-min "
                            f"{args.snr_min:g} dB")
    if args.fixed_snr is not None:
        args.fixed_snr = v.snr("--fixed-snr", args.fixed_snr)
    if args.fixed_keep is not None:
        args.fixed_keep = v.integer("--fixed-keep", args.fixed_keep, 1, 4096, "channels")
    args.full_keep_prob = v.finite("--full-keep-prob", args.full_keep_prob, 0, 1)
    args.seed = v.integer("--seed", args.seed, 0, 2**32 - 1)
    args.threads = v.integer("--threads", args.threads, 0, 1024, "(0: torch default)")
    for name in ("ckpt_every", "log_every"):
        setattr(args, name, v.integer(f"--{name.replace('_', '-')}", getattr(args, name), 1,
                                      10**9, "steps"))
    args.val_every = v.integer("--val-every", args.val_every, 0, 10**9, "steps (0: off)")
    args.stop_step = v.integer("--stop-step", args.stop_step, 0, 10**9, "(0: none)")
    args.time_budget_min = v.finite("--time-budget-min", args.time_budget_min, 0, 10**7,
                                    "min")
    if args.snapshot_steps:
        v.integers("--snapshot-steps", args.snapshot_steps, 1, 10**9)
    if not args.finetune_real:
        from models.registry import available
        v.choice("--arch", args.arch, sorted(available()))
        try:
            cfg = json.loads(args.config) if args.config else {}
        except json.JSONDecodeError as exc:
            raise v.OptionError(f"--config: not JSON ({exc})") from None
        if not isinstance(cfg, dict):
            raise v.OptionError("--config must be a JSON object")
        if args.data:
            v.input_path("--data", args.data)
        v.output_dir("--out", args.out)


def run(args) -> int:
    check_args(args)
    if args.finetune_real:
        return _finetune_real(args)
    return Trainer(args).run()


def _finetune_real(args) -> int:
    """Receiver-side adaptation on a recorded dataset (sdr_rx.rx_adapt), one line out."""
    from sdr_rx.rx_adapt import finetune
    from semcom import validate as v

    ds = v.input_path("--finetune-real", args.finetune_real)
    out = v.output_dir("--out", args.out)
    expect = ""
    if args.init:
        from models.checkpoint import peek
        expect = peek(args.init)["model_hash"]
    ad = finetune(ds, out / "rx_adapt.json", args.finetune_images, expect,
                  f"--init {args.init}")
    i = ad.info
    card = out / "MODEL_CARD.md"
    tmp = card.with_suffix(".tmp")
    tmp.write_text(
        f"# Model card: receiver adaptation `{ad.adapt_hash}`\n\n"
        f"A receiver-side fine-tune on a real-channel dataset (`semcom train --finetune-real`):"
        f" a widely-linear correction per data carrier and per-carrier noise scales "
        f"(`sdr_rx/rx_adapt.py`), applied with `semcom rx --adapt "
        f"{out / 'rx_adapt.json'}`. The transmitter is unchanged: it decodes frames of model "
        f"`{ad.tx_model_hash}` (the hash on the air); the adaptation's own hash is "
        f"`{ad.adapt_hash}`.\n\n"
        f"- Dataset: `{i.get('dataset', ds)}`, {i.get('frames', '?')} frames, "
        f"{i.get('symbols', '?')} symbols; image ids used: "
        f"{args.finetune_images or 'all'}.\n"
        f"- Symbol error on the fitted frames: {i.get('error_before_db', float('nan')):.2f} -> "
        f"{i.get('error_after_db', float('nan')):.2f} dB.\n"
        f"- Held-out quality: measure with `python -m benchmarks.finetune` or `semcom rx "
        f"--replay REC --adapt FILE --reference DIR` on images not fitted on.\n"
        f"- Limits: see `sdr_rx/rx_adapt.py` (a fixed correction holds while the mirror-carrier "
        f"term stays put).\n")
    os.replace(tmp, card)
    print(f"train: receiver adaptation {ad.adapt_hash} for model {ad.tx_model_hash} from "
          f"{i['frames']} frames ({i['symbols']} symbols): symbol error "
          f"{i['error_before_db']:.2f} -> {i['error_after_db']:.2f} dB; wrote "
          f"{out / 'rx_adapt.json'} and its model card {card}")
    return 0
