"""``semcom calibrate``: measure with the real PHY and channel emulator in the loop.

- ``semcom calibrate snr``: sweep the emulator over -5..30 dB with each channel profile, fit
  the SNR estimator's bias and store the correction (``calibration/snr_correction.json``)
  that the RX loads; prints raw and corrected RMS error.
- ``semcom calibrate policy``: PSNR/SSIM over a grid of SNR x keep on the held-out photos
  through TX, emulator and RX (not the simulation); stores the rate-quality table for the
  model (``calibration/tables/<model hash>.json``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from semcom.rate_table import TABLE_DIR, table_path  # noqa: F401  (their old place)


def images(max_side: int, n: int):
    from models.data import load_split
    from semcom.images import shrink

    return [shrink(im.array, max_side) for im in load_split("heldout")[:n]]


def run_snr(args) -> int:
    check_args(args)
    import torch
    from tqdm import tqdm

    from calibration.pipeline import PhyLink
    from models.codec import JSCCCodec
    from semcom.snr_correction import SnrCorrection

    torch.set_num_threads(args.threads)
    codec = JSCCCodec.load(args.model)
    imgs = images(args.max_side, args.images)
    profiles = args.profiles.split(",")
    snrs = np.arange(-5.0, 30.01, 2.5)
    true, est, prof = [], [], []
    bar = tqdm(total=len(profiles) * len(snrs) * len(imgs), desc="calibrate snr")
    for p in profiles:
        link = PhyLink(codec, seed=args.seed, settings={"multipath": p} if p != "awgn" else {})
        for s in snrs:
            for img in imgs:
                r = link.send(img, codec.C, 10.0, float(s))
                true += [float(s)] * len(r.frame_snrs)
                est += r.frame_snrs
                prof += [p] * len(r.frame_snrs)
                bar.update(1)
    bar.close()
    true, est, prof = np.array(true), np.array(est), np.array(prof)
    corr = SnrCorrection.fit(true, est, np.arange(-7.5, 33.0, 2.5))
    fixed = np.array([corr(e) for e in est])
    in_range = (true >= 0) & (true <= 25)
    print("profile  SNR range  frames  RMS raw  RMS corrected  (dB)")
    res = {}
    for p in profiles:
        sel = in_range & (prof == p)
        raw = float(np.sqrt(np.mean((est[sel] - true[sel]) ** 2)))
        cor = float(np.sqrt(np.mean((fixed[sel] - true[sel]) ** 2)))
        res[p] = {"rms_raw_db": raw, "rms_corrected_db": cor, "frames": int(sel.sum())}
        print(f"{p:<8} 0..25 dB  {sel.sum():6d}  {raw:7.3f}  {cor:13.3f}")
    corr.meta = {"profiles": res, "model_hash": codec.model_hash,
                 "made": time.strftime("%Y-%m-%d"), "snr_grid_db": snrs.tolist()}
    corr.save(args.out) if args.out else corr.save()
    print(f"calibrate snr: wrote {args.out or 'calibration/snr_correction.json'}")
    return 0


def check_args(args) -> None:
    """Numeric options and the output checked before the long run (one line, exit 2)."""
    from semcom import validate as v

    args.images = v.integer("--images", args.images, 1, 10_000, "images")
    args.max_side = v.integer("--max-side", args.max_side, 8, 8192, "px")
    args.seed = v.integer("--seed", args.seed, 0, 2**32 - 1)
    args.threads = v.integer("--threads", args.threads, 1, 1024)
    if args.out:
        v.output_file("--out", args.out)


def run_policy(args) -> int:
    check_args(args)
    import torch
    from tqdm import tqdm

    from calibration.pipeline import PhyLink
    from models.codec import JSCCCodec
    from semcom.rate_table import RateTable

    torch.set_num_threads(args.threads)
    codec = JSCCCodec.load(args.model)
    imgs = images(args.max_side, args.images)
    C = codec.C
    keeps = sorted({max(1, C // 8) * i for i in range(1, 9)} | {C})
    snrs = [float(s) for s in np.arange(0.0, 25.01, 2.5)]
    link = PhyLink(codec, seed=args.seed)
    psnr = np.zeros((len(keeps), len(snrs)))
    ssim = np.zeros_like(psnr)
    bar = tqdm(total=psnr.size * len(imgs), desc="calibrate policy")
    for i, k in enumerate(keeps):
        for j, s in enumerate(snrs):
            rs = []
            for img in imgs:
                rs.append(link.send(img, k, s, s, with_ssim=True))
                bar.update(1)
            psnr[i, j] = np.mean([r.psnr_db for r in rs])
            ssim[i, j] = np.mean([r.ssim for r in rs])
    bar.close()
    # PSNR cannot fall when keep or SNR rises: take the running maximum so the table is
    # monotone (measurement noise otherwise makes policies flap)
    psnr = np.maximum.accumulate(np.maximum.accumulate(psnr, axis=0), axis=1)
    table = RateTable(codec.model_hash, C, snrs, keeps, psnr.round(3).tolist(),
                      ssim.round(4).tolist(),
                      f"semcom calibrate policy: TX -> emulator (AWGN) -> RX, {len(imgs)} "
                      f"held-out photos at max side {args.max_side}, seed {args.seed}; the "
                      f"encoder told the true SNR")
    out = Path(args.out) if args.out else table_path(codec.model_hash)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.save(out)
    print("keep \\ SNR " + "".join(f"{s:7.1f}" for s in snrs))
    for i, k in enumerate(keeps):
        print(f"{k:10d} " + "".join(f"{v:7.2f}" for v in psnr[i]))
    print(f"calibrate policy: wrote {out}")
    return 0
