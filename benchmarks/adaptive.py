"""Adaptive pruning benchmark: the `target` policy against fixed keeps on one SNR trace.

    python -m benchmarks.adaptive [--model default] [--images 40] [--target-psnr DB]

An image-indexed SNR trace (seeded random walk between 0 and 25 dB, one SNR per image, block
fading) through the real PHY and channel emulator (:class:`calibration.pipeline.PhyLink`). The
adaptive run is lock-step: the controller sees the RX's reports of the previous image (the
first image goes out with the safe keep). Prints the mean PSNR and the JSCC symbols of the
target policy and of every fixed keep, then the two comparisons of the issue: symbols saved at
the PSNR of the best fixed keep, and PSNR gained at equal symbols (fixed keeps interpolated).
Also the step response: keep after a 10 dB SNR drop, image by image.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from calibration.cli import images as heldout_images
from calibration.cli import table_path
from calibration.pipeline import PhyLink
from calibration.rate_table import RateTable
from flowgraphs.emulator_core import RandomWalk
from models.codec import JSCCCodec
from sdr_tx.rate_controller import RateController, Report


def run_adaptive(codec, table, imgs, snrs, target, seed):
    link = PhyLink(codec, seed=seed)
    ctl = RateController(codec.C, "target", table, target_psnr=target)
    seq, out = 0, []
    for i, (img, snr) in enumerate(zip(imgs, snrs, strict=True)):
        d = ctl.decide(float(i), codec.model.symbols_per_channel(*img.shape[:2]))
        tx_snr = d.snr_used_db if d.snr_used_db is not None else 10.0
        r = link.send(img, d.keep, tx_snr, snr)
        for s in r.frame_snrs:
            ctl.on_report(Report(seq, s), float(i) + 0.5)
            seq += 1
        out.append((d.keep, r.psnr_db, r.symbols))
    return out


def run_fixed(codec, imgs, snrs, keep, seed):
    link = PhyLink(codec, seed=seed)
    return [(keep, link.send(img, keep, snr, snr).psnr_db,
             keep * codec.model.symbols_per_channel(*img.shape[:2]))
            for img, snr in zip(imgs, snrs, strict=True)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--images", type=int, default=40)
    p.add_argument("--target-psnr", type=float, default=0.0,
                   help="default: the best fixed keep's mean PSNR")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    codec = JSCCCodec.load(args.model)
    table = RateTable.load(table_path(codec.model_hash), codec.model_hash)
    base = heldout_images(256, 5)
    imgs = [base[i % len(base)] for i in range(args.images)]
    walk = RandomWalk("0,25,5", args.seed)
    snrs = [walk.value(i) for i in range(args.images)]
    print(f"model {codec.model_hash}; {args.images} images (5 held-out photos, 256 px); SNR "
          f"trace: random walk 0..25 dB, mean {np.mean(snrs):.1f} dB")
    fixed = {}
    for k in table.keep:
        res = run_fixed(codec, imgs, snrs, k, args.seed)
        fixed[k] = (np.mean([r[1] for r in res]), sum(r[2] for r in res))
        print(f"  fixed keep {k:3d}: mean PSNR {fixed[k][0]:6.2f} dB, {fixed[k][1]} symbols")
    best_k = max(fixed, key=lambda k: fixed[k][0])
    target = args.target_psnr or fixed[best_k][0]
    # a policy that aims at the per-image PSNR the best fixed keep reaches on average
    res = run_adaptive(codec, table, imgs, snrs, target, args.seed)
    a_psnr, a_sym = np.mean([r[1] for r in res]), sum(r[2] for r in res)
    print(f"  target policy ({target:.2f} dB): mean PSNR {a_psnr:6.2f} dB, {a_sym} symbols; "
          f"keeps {[r[0] for r in res]}")
    print(f"comparison 1: best fixed keep {best_k} reaches {fixed[best_k][0]:.2f} dB with "
          f"{fixed[best_k][1]} symbols; target policy {a_psnr:.2f} dB with {a_sym} symbols: "
          f"{100 * (1 - a_sym / fixed[best_k][1]):.1f}% fewer symbols "
          f"({a_psnr - fixed[best_k][0]:+.2f} dB)")
    ks = sorted(fixed)
    sym = np.array([fixed[k][1] for k in ks], float)
    ps = np.array([fixed[k][0] for k in ks])
    at_equal = float(np.interp(a_sym, sym, ps))
    print(f"comparison 2: at the policy's {a_sym} symbols, fixed keep (interpolated) gives "
          f"{at_equal:.2f} dB; the policy {a_psnr:.2f} dB ({a_psnr - at_equal:+.2f} dB)")
    # step response: 8 images at 22 dB then 8 at 12 dB
    step_snrs = [22.0] * 8 + [12.0] * 8
    res = run_adaptive(codec, table, [base[i % 5] for i in range(16)], step_snrs,
                       target, args.seed)
    keeps = [r[0] for r in res]
    final = keeps[-1]
    settle = next(i for i in range(8, 16) if all(k == final for k in keeps[i:])) - 8
    print(f"step 22 -> 12 dB at image 8: keeps {keeps}; settled {settle} images after the "
          f"step (lock-step: the first image after it still acts on the old SNR)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
