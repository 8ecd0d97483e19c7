"""Adaptive pruning benchmark: the `target` policy against fixed keeps on one SNR trace.

    python -m benchmarks.adaptive [--model default] [--images 200] [--png out.png]
        [--snr-trace FILE.csv] [--targets 25,26,27,28,29,30]

An image-indexed SNR trace (seeded random walk between 0 and 25 dB, one SNR per image, block
fading) through the real PHY and channel emulator (:class:`calibration.pipeline.PhyLink`). The
adaptive runs are lock-step: the controller sees the RX's reports of the previous image (the
first image goes out with the safe keep).

Printed, each from one run:

- every fixed keep of the rate table: mean PSNR and JSCC symbols (same trace, same seed);
- the target policy at a sweep of target PSNRs (its rate-quality curve), and the run at the
  best fixed keep's mean PSNR;
- comparison 1: symbols the policy needs for the best fixed keep's mean PSNR (read off its
  curve), against that keep's symbols;
- comparison 2: the policy's PSNR minus fixed keep's (interpolated) at equal symbols, at that
  point and the best over the sweep;
- the **oracle bound**: from the measured per-image PSNR of every fixed keep, the best any
  keep-per-image policy could do (one that knew each image's true SNR, its content and the
  noise in advance: a Lagrangian choice per image). No policy can beat it on this model, so
  it says whether a target is reachable at all;
- the step response: keep after a 10 dB SNR drop, image by image;
- the **quality-of-service promise** (models that predict each image's quality, such as
  SoftCast): for each target T, the images whose full-keep PSNR reaches T (at their SNR on the
  trace) must get at least T - 0.5 dB from the per-image target policy, and on those images
  the policy's channel symbols (side information counted) are compared with the smallest
  fixed keep that gives every one of them T - 0.5 dB; images that cannot reach T get full
  keep (best effort).

Symbols everywhere are channel symbols of the model: payload plus side frame.

``--png`` plots mean PSNR against symbols for fixed keeps, the policy and the oracle.
``--walk-step`` sets how fast the SNR wanders (std of the per-image step, default 5 dB);
``--genie`` tells the policy each image's true SNR before it decides, which separates the
cost of feedback delay and estimation error from what the model allows.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from calibration.calibrate import images as heldout_images
from calibration.pipeline import PhyLink
from calibration.rate_table import RateTable
from channel import RandomWalk
from models.codec import JSCCCodec
from sdr_tx.rate_controller import ImageTable, RateController, Report
from semcom.rate_table import table_path

DEFAULT_KEEPS = (4, 8, 12, 16, 20, 24, 28, 32)


def run_adaptive(codec, table, imgs, snrs, target, seed, margin_db=0.5, genie=False):
    """Per image (keep, PSNR, symbols) of the target policy, lock-step with the RX reports.

    ``table`` None: the per-image policy (the model predicts each image's quality).
    ``genie``: the controller is told each image's true SNR just before it decides (no
    feedback delay, no estimation error; a diagnostic, not a policy)."""
    link = PhyLink(codec, seed=seed)
    per_image = table is None
    ctl = RateController(codec.C, "target", table, target_psnr=target, margin_db=margin_db,
                         alpha=1.0 if genie else 0.5, per_image=per_image)
    seq, out = 0, []
    for i, (img, snr) in enumerate(zip(imgs, snrs, strict=True)):
        if genie:
            ctl.on_report(Report(seq, snr), float(i))
            seq += 1
        d = ctl.decide(float(i), codec.model.symbols_per_channel(*img.shape[:2]),
                       ImageTable(codec, img) if per_image else None)
        tx_snr = d.snr_used_db if d.snr_used_db is not None else 10.0
        r = link.send(img, d.keep, tx_snr, snr)
        for s in ([] if genie else r.frame_snrs):
            ctl.on_report(Report(seq, s), float(i) + 0.5)
            seq += 1
        out.append((d.keep, r.psnr_db, r.symbols, d.snr_used_db))
    return out


def run_fixed(codec, imgs, snrs, keep, seed):
    link = PhyLink(codec, seed=seed)
    out = []
    for img, snr in zip(imgs, snrs, strict=True):
        r = link.send(img, keep, snr, snr)
        out.append((keep, r.psnr_db, r.symbols))
    return out


def qos(P, S, keeps, adaptive, target, slack=0.5):
    """The quality-of-service comparison at one target (see the module doc). ``P``, ``S``:
    (images, keeps) PSNR and symbols of fixed keeps; ``adaptive``: per image (keep, PSNR,
    symbols). -> dict."""
    full = P[:, -1]
    q = full >= target
    a_p = np.array([r[1] for r in adaptive])
    a_s = np.array([r[2] for r in adaptive], dtype=float)
    res = {"target": target, "qualifying": int(q.sum()), "images": len(full)}
    if not q.any():
        return res
    res["met"] = int((a_p[q] >= target - slack).sum())
    res["missed"] = [(i, round(float(a_p[i]), 2), adaptive[i][0], adaptive[i][3])
                     for i in np.flatnonzero(q & (a_p < target - slack))]
    res["worst_db"] = float(a_p[q].min())
    ok = [j for j in range(len(keeps)) if np.all(P[q, j] >= target - slack)]
    kf = ok[0] if ok else len(keeps) - 1
    res["fixed_keep"] = keeps[kf]
    res["fixed_symbols"] = float(S[q, kf].sum())
    res["policy_symbols"] = float(a_s[q].sum())
    res["saving"] = 1.0 - res["policy_symbols"] / res["fixed_symbols"]
    res["best_effort_keeps"] = sorted({int(r[0]) for r, qq in zip(adaptive, q, strict=True)
                                       if not qq})
    return res


def oracle_curve(psnr: np.ndarray, sym: np.ndarray) -> list[tuple[float, float]]:
    """Upper bound of keep-per-image policies: (total symbols, mean PSNR) points.

    ``psnr`` and ``sym`` are (images, keeps) measured with fixed keeps. For each multiplier
    ``lam`` every image takes the keep maximising ``psnr - lam * sym``; sweeping ``lam`` traces
    the upper convex hull of what any per-image choice can reach."""
    pts = []
    scale = 1.0 / max(float(sym.mean()), 1.0)
    for lam in np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 400)]):
        j = np.argmax(psnr - lam * scale * sym, axis=1)
        rows = np.arange(psnr.shape[0])
        pts.append((float(sym[rows, j].sum()), float(psnr[rows, j].mean())))
    return sorted(set(pts))


def fixed_at(symbols: float, fixed_sym: np.ndarray, fixed_psnr: np.ndarray) -> float:
    """Fixed keep's mean PSNR at a number of symbols (linear between tabulated keeps)."""
    return float(np.interp(symbols, fixed_sym, fixed_psnr))


def best_gain(curve, fixed_sym, fixed_psnr) -> tuple[float, float]:
    """(largest PSNR gain over fixed at equal symbols, symbols where it happens), within the
    range of symbols the fixed keeps span."""
    best = (-np.inf, 0.0)
    for s, p in curve:
        if fixed_sym[0] <= s <= fixed_sym[-1]:
            best = max(best, (p - fixed_at(s, fixed_sym, fixed_psnr), s))
    return best


def symbols_for(psnr_goal: float, curve) -> float | None:
    """Fewest symbols at which a (symbols, PSNR) curve reaches a mean PSNR (linear between
    its points), None when it never does."""
    pts = sorted(curve)
    for i, (s, p) in enumerate(pts):
        if p >= psnr_goal:
            if i == 0:
                return s
            s0, p0 = max(pts[:i], key=lambda q: q[1])
            if p0 >= psnr_goal:
                return s0
            return s0 + (s - s0) * (psnr_goal - p0) / (p - p0)
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--png", default="", help="write the rate-quality plot here")
    p.add_argument("--walk-step", type=float, default=5.0,
                   help="std of the per-image SNR step of the random walk, dB")
    p.add_argument("--genie", action="store_true",
                   help="diagnostic: the policy is told each image's true SNR in advance")
    p.add_argument("--snr-trace", default="",
                   help="image-indexed SNR trace (CSV with image,snr_db) instead of the walk")
    p.add_argument("--sweep-step", type=float, default=0.5,
                   help="step of the target sweep for the equal-mean-PSNR comparisons, dB")
    p.add_argument("--margin-db", type=float, default=0.5,
                   help="the policy plans for an SNR this much below its estimate")
    p.add_argument("--targets", default="25,26,27,28,29,30",
                   help="targets of the quality-of-service comparison, dB")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    codec = JSCCCodec.load(args.model)
    try:
        table = RateTable.load(table_path(codec.model_hash), codec.model_hash)
    except Exception:
        if not codec.can_predict:
            raise
        table = None                        # the per-image policy needs no table
    per_image = codec.can_predict
    base = heldout_images(256, 5)
    imgs = [base[i % len(base)] for i in range(args.images)]
    if args.snr_trace:
        from channel import Trace
        tr = Trace(args.snr_trace)
        snrs = [tr.at(i, i, 0, 0.0) for i in range(args.images)]
        what = f"trace {args.snr_trace}"
    else:
        walk = RandomWalk(f"0,25,{args.walk_step:g}", args.seed)
        snrs = [walk.value(i) for i in range(args.images)]
        what = f"random walk 0..25 dB, step std {args.walk_step:g} dB per image"
    print(f"model {codec.model_hash}; {args.images} images (5 held-out photos, 256 px); SNR "
          f"{what}, mean {np.mean(snrs):.1f} dB; policy: "
          + ("per image (the model predicts each image's quality)" if per_image else
             "rate-quality table")
          + ("; GENIE: the policy knows each image's true SNR" if args.genie else ""))
    ptable = None if per_image else table

    keeps = list(table.keep) if table is not None else list(DEFAULT_KEEPS)
    per_img = {k: run_fixed(codec, imgs, snrs, k, args.seed) for k in keeps}
    P = np.array([[r[1] for r in per_img[k]] for k in keeps]).T      # images x keeps
    S = np.array([[r[2] for r in per_img[k]] for k in keeps]).T
    fixed_psnr, fixed_sym = P.mean(0), S.sum(0).astype(float)
    for k, m, s in zip(keeps, fixed_psnr, fixed_sym, strict=True):
        print(f"  fixed keep {k:3d}: mean PSNR {m:6.2f} dB, {int(s)} symbols")
    bi = int(np.argmax(fixed_psnr))
    best_k, best_p, best_s = keeps[bi], float(fixed_psnr[bi]), float(fixed_sym[bi])

    targets = sorted(set(np.round(np.arange(fixed_psnr.min() - 0.5, best_p + 1.01,
                                            args.sweep_step), 2))
                     | {round(best_p, 2)})
    policy = []
    for t in targets:
        res = run_adaptive(codec, ptable, imgs, snrs, t, args.seed, genie=args.genie)
        a_p, a_s = float(np.mean([r[1] for r in res])), float(sum(r[2] for r in res))
        policy.append((a_s, a_p))
        print(f"  target policy at {t:5.2f} dB: mean PSNR {a_p:6.2f} dB, {int(a_s)} symbols, "
              f"mean keep {np.mean([r[0] for r in res]):.1f}")

    ref = policy[targets.index(round(best_p, 2))]
    print(f"comparison 1 (same mean PSNR, fewer symbols): best fixed keep {best_k} reaches "
          f"{best_p:.2f} dB with {int(best_s)} symbols")
    print(f"  target policy aimed at {best_p:.2f} dB: {ref[1]:.2f} dB ({ref[1] - best_p:+.2f}) "
          f"with {100 * (1 - ref[0] / best_s):.1f}% fewer symbols")
    need = symbols_for(best_p, policy)
    print("  policy curve at that PSNR: " + (
        f"{100 * (1 - need / best_s):.1f}% fewer symbols" if need is not None
        else f"never reached (best {max(q[1] for q in policy):.2f} dB)"))
    orc = oracle_curve(P, S.astype(float))
    o_need = symbols_for(best_p - 1e-9, orc)
    print(f"  oracle bound: {100 * (1 - o_need / best_s):.1f}% fewer symbols at most")
    g_ref = ref[1] - fixed_at(ref[0], fixed_sym, fixed_psnr)
    g_pol, s_pol = best_gain(policy, fixed_sym, fixed_psnr)
    g_orc, s_orc = best_gain(orc, fixed_sym, fixed_psnr)
    print(f"comparison 2 (equal symbols, PSNR over fixed keep): policy {g_ref:+.2f} dB at "
          f"{int(ref[0])} symbols; best over the sweep {g_pol:+.2f} dB (at {int(s_pol)}); "
          f"oracle bound {g_orc:+.2f} dB (at {int(s_orc)})")

    # step response: 8 images at 22 dB then 8 at 12 dB
    step_snrs = [22.0] * 8 + [12.0] * 8
    res = run_adaptive(codec, ptable, [base[i % 5] for i in range(16)], step_snrs,
                       best_p, args.seed)
    ks = [r[0] for r in res]
    settle = next(i for i in range(8, 16) if all(k == ks[-1] for k in ks[i:])) - 8
    print(f"step 22 -> 12 dB at image 8: keeps {ks}; settled {settle} images after the "
          f"step (lock-step: the first image after it still acts on the old SNR)")

    targets_qos = [float(t) for t in args.targets.split(",") if t.strip()]
    if per_image and targets_qos:
        print(f"quality of service (per-image target policy, margin {args.margin_db:g} dB; "
              "images whose full-keep PSNR reaches T must get >= T - 0.5 dB):")
        for t in targets_qos:
            r = qos(P, S, keeps, run_adaptive(codec, None, imgs, snrs, t, args.seed,
                                              margin_db=args.margin_db), t)
            for i, got, k, acted in r.get("missed", []):
                print(f"    missed: image {i}: {got:.2f} dB at keep {k}, true SNR "
                      f"{snrs[i]:.1f} dB, policy acted on "
                      f"{'-' if acted is None else f'{acted:.1f}'} dB")
            if not r["qualifying"]:
                print(f"  T {t:4.1f} dB: no image reaches it at full keep")
                continue
            print(f"  T {t:4.1f} dB: {r['qualifying']}/{r['images']} images can reach it; "
                  f"{r['met']}/{r['qualifying']} got >= T-0.5 (worst {r['worst_db']:.2f} dB); "
                  f"symbols on them {int(r['policy_symbols'])} vs smallest sufficient fixed "
                  f"keep {r['fixed_keep']} {int(r['fixed_symbols'])}: "
                  f"{100 * r['saving']:.1f}% fewer; the others got keep "
                  f"{r['best_effort_keeps']} (best effort)")

    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        n = args.images
        ax.plot(fixed_sym / n, fixed_psnr, "o-", label="fixed keep")
        for k, s, m in zip(keeps, fixed_sym, fixed_psnr, strict=True):
            ax.annotate(str(k), (s / n, m), textcoords="offset points", xytext=(3, -10),
                        fontsize=7)
        ps = sorted(policy)
        ax.plot([q[0] / n for q in ps], [q[1] for q in ps], "s--", label="target policy (sweep)")
        ax.plot([q[0] / n for q in orc], [q[1] for q in orc], ":", color="k",
                label="oracle bound (per-image best keep)")
        ax.set_xlabel("JSCC symbols per image")
        ax.set_ylabel("mean PSNR (dB)")
        ax.set_title(f"{codec.model_hash}: random walk 0..25 dB, {n} images")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
