"""``semcom eval``: simulated PSNR/SSIM of a checkpoint against the separation baselines.

For every image and SNR: the model (encoder -> differentiable channel -> decoder, seeded) and,
on the same images and the same number of channel uses (the model's symbols at that keep), the
baselines of :mod:`models.baselines`. Writes ``--out FILE.json`` with a list ``results`` of
``{method, snr_db, keep, mean_psnr_db, mean_ssim, per_image}`` (``method`` "model" or a
baseline name) and a PNG plot of PSNR vs SNR beside it (``FILE.png``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from models.baselines import BASELINES, run_baseline
from models.channels import make_channel
from models.checkpoint import load_checkpoint
from models.codec import JSCCCodec
from models.data import load_folder, load_split
from models.metrics import psnr, ssim


def model_roundtrip(codec: JSCCCodec, image: np.ndarray, snr_db: float, keep: int,
                    channel: str, seed: int) -> tuple[np.ndarray, int]:
    """Encode, pass the sent symbols through the channel, decode. -> (image, n symbols).

    The symbol count charges the model its side information too (the side frame's payload,
    which is simulated as delivered: its loss is a PHY matter, measured through the PHY)."""
    g = torch.Generator().manual_seed(seed)
    ch = make_channel(channel, g)
    z, side = codec.encode_side(image, snr_db, keep)
    y, nv = ch(torch.from_numpy(z)[None], torch.tensor([float(snr_db)]))
    out = codec.decode(y[0].numpy(), image.shape[:2], snr_db, keep, nv[0].numpy(), side)
    return out, z.size + codec.side_symbols()


def evaluate(codec: JSCCCodec, images, snrs, keeps, channel="awgn", baselines=BASELINES,
             seed=0, progress=True, with_ssim=True) -> list[dict]:
    from tqdm import tqdm

    results = []
    jobs = [(s, k) for k in keeps for s in snrs]
    bar = tqdm(total=len(jobs) * len(images), disable=not progress, desc="eval")
    caches: list[dict] = [{} for _ in images]      # per image: codec budget -> result
    for snr, keep in jobs:
        rows = {m: [] for m in ("model", *baselines)}
        for i, im in enumerate(images):
            img = im.array
            out, n = model_roundtrip(codec, img, snr, keep, channel, seed + 1000 * i)
            rows["model"].append(_score(im.name, img, out, with_ssim, symbols=n))
            for b in baselines:
                c = run_baseline(b, img, n, snr, caches[i])
                rows[b].append(_score(im.name, img, c.image, with_ssim, symbols=n,
                                      bits=c.bits, quality=c.quality, delivered=c.delivered))
            bar.update(1)
        for method, per in rows.items():
            results.append({
                "method": method, "snr_db": float(snr), "keep": int(keep),
                "mean_psnr_db": float(np.mean([r["psnr_db"] for r in per])),
                "mean_ssim": (float(np.mean([r["ssim"] for r in per])) if with_ssim else None),
                "per_image": per,
            })
    bar.close()
    return results


def _score(name, ref, out, with_ssim, **extra) -> dict:
    rec = {"name": name, "psnr_db": psnr(ref, out)}
    rec["ssim"] = ssim(ref, out) if with_ssim else None
    rec.update(extra)
    return rec


def plot(results: list[dict], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    keeps = sorted({r["keep"] for r in results})
    for method in dict.fromkeys(r["method"] for r in results):
        for keep in keeps:
            rs = sorted((r for r in results if r["method"] == method and r["keep"] == keep),
                        key=lambda r: r["snr_db"])
            if not rs:
                continue
            label = method if len(keeps) == 1 else f"{method} keep={keep}"
            style = "-o" if method == "model" else "--."
            ax.plot([r["snr_db"] for r in rs], [r["mean_psnr_db"] for r in rs], style,
                    label=label)
    ax.set_xlabel("SNR (dB, Es/N0 per JSCC symbol)")
    ax.set_ylabel("mean PSNR (dB)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x.strip()]


def run(args) -> int:
    from semcom import validate as v
    from semcom.images import check_images, image_files
    from semcom.profiles import PROFILES

    # every option before the (long) evaluation: one line and exit 2 for a bad one
    snrs = v.floats("--snr", args.snr, v.SNR_MIN_DB, v.SNR_MAX_DB, "dB")
    args.threads = v.integer("--threads", args.threads, 1, 1024, "threads")
    args.seed = v.integer("--seed", args.seed, 0, 2 ** 63 - 1)
    v.choice("--channel", args.channel, ["awgn", "rayleigh", *PROFILES])
    if args.images:
        if not Path(args.images).is_dir():
            raise v.OptionError(f"--images {args.images}: not a folder")
        check_images(image_files(args.images))
    v.output_file("--out", args.out)
    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.model)
    codec = JSCCCodec(model, meta)
    keeps = v.integers("--keep", args.keep, 1, model.C, "channels") if args.keep \
        else [model.C]
    images = load_folder(args.images) if args.images else load_split("heldout", None)
    baselines = [] if args.no_baselines else list(BASELINES)
    if getattr(args, "digital", False):
        from models.baselines import digital_links
        baselines += list(digital_links())
    t0 = time.monotonic()
    results = evaluate(codec, images, snrs, keeps, args.channel, baselines,
                       args.seed, progress=not args.quiet)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"model": {k: meta[k] for k in ("arch", "model_hash", "config", "path")},
           "channel": args.channel, "seed": args.seed,
           "images": [im.name for im in images],
           "snr_convention": "Es/N0 per JSCC symbol (see semcom.snr)",
           "wall_s": round(time.monotonic() - t0, 1), "results": results}
    out.write_text(json.dumps(doc, indent=1))
    png = out.with_suffix(".png")
    plot(results, png, f"{meta['arch']} {meta['model_hash']} on {len(images)} images, "
         f"{args.channel}")
    for r in results:
        print(f"{r['method']:>16}  snr {r['snr_db']:5.1f}  keep {r['keep']:3d}  "
              f"PSNR {r['mean_psnr_db']:6.2f} dB  SSIM {r['mean_ssim']:.4f}")
    print(f"eval: wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    # the options live in the command line (semcom.cli.eval), above this package
    import sys

    sys.exit("python -m models.evaluate moved: run `semcom eval ...`")
