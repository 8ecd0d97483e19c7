"""JSCC against the digital link over the same PHY and channel emulator, at equal air time.

    python -m benchmarks.versus [--images 2] [--seed 1] [--png docs/versus.png]
    python -m benchmarks.versus --thresholds [--images 6]   # measures semcom/fec/thresholds.json

Both links run the real TX framing, GNU Radio OFDM modulator, the channel emulator's core
(:class:`channel.core.ChannelCore`), the OFDM receiver and their decoders, on the same 256x256
held-out crops. Air time per image is the default JSCC model's at full keep (its side frame
and every burst's preamble and header counted): the digital link gets the same number of
bursts and at most the same OFDM symbols (:func:`sdr_tx.digital_encoder.jscc_budget`).

Printed: per SNR, PSNR and SSIM of JSCC and of the digital link at every MCS (each a cliff),
and the digital link with its MCS chosen by :class:`sdr_tx.mcs_controller.McsController`
from the SNR (the sweeps: the true SNR; the trace: the receiver's reports of the previous
image, lock-step, as the JSCC encoder's SNR is) and each image's outcome (its outer loop,
OLLA: in the sweeps its steady state over 20 images per SNR after 10 of warm-up, from the
outcomes measured at each MCS; beside it the AWGN thresholds alone). Channels: AWGN
-2..25 dB, the ``incp`` multipath profile, and a seeded random walk (0..25 dB, one SNR per
image). A lost image counts as mid-grey (its PSNR and SSIM against the original). ``--png``
draws PSNR against SNR.

To save time, the benchmark's digital decoder stops at an image's first failed block of
codewords (the image is lost either way; ``decode_assembly(stop_early=True)``). The
threshold measurement decodes every codeword: per MCS, the lowest SNR on a 0.25 dB grid where
at most 1% of codewords are lost (missing or failing their CRC-16), found by a coarse 1 dB
scan and a 0.25 dB refinement, written with the command that measured it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from calibration.pipeline import PhyLink, modulate
from channel.core import ChannelCore, Settings
from channel.schedules import RandomWalk
from models.codec import JSCCCodec
from models.metrics import psnr, ssim
from sdr_rx.digital_decoder import DigitalReassembler, decode_assembly
from sdr_rx.framelog import FrameLog
from sdr_rx.stream_receiver import StreamReceiver
from sdr_tx.digital_encoder import DigitalEncoder, jscc_budget
from sdr_tx.mcs_controller import McsController
from sdr_tx.rate_controller import Report
from semcom import mcs
from semcom import numerology as nm
from semcom.header import SCHEME_DIGITAL

AWGN_SNRS = (-2, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 25)
MULTIPATH_SNRS = (0, 4, 8, 12, 16, 20, 25)


def crops(n: int, size: int = 256) -> list[np.ndarray]:
    from models.data import load_split

    out = []
    for im in load_split("heldout")[:n]:
        a = im.array
        y, x = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
        out.append(np.ascontiguousarray(a[y:y + size, x:x + size]))
    return out


class DigitalLink:
    """The digital scheme through the real PHY and the emulator's core, one image at a time
    (the digital counterpart of :class:`calibration.pipeline.PhyLink`)."""

    def __init__(self, budget, seed: int = 0, settings: dict | None = None):
        self.enc = DigitalEncoder(budget, session=1)
        self.core = ChannelCore(Settings(**(settings or {})), seed=seed)
        self.rx = StreamReceiver(log=FrameLog())
        self.image_id = 0

    def send(self, image: np.ndarray, m, snr_db: float | None, tx_snr_db: float = 10.0,
             stop_early: bool = False, with_ssim: bool = True) -> dict:
        e = self.enc.encode(image, self.image_id, m, tx_snr_db)
        self.image_id += 1
        x = modulate([v for _, v in e.frames])
        if snr_db is not None:
            self.core.request({"snr_db": float(snr_db)})
        y = self.core.process(np.concatenate([x, np.zeros(nm.SYM_LEN * 4, np.complex64)]))
        got = [f for f in self.rx.push(y) if f.header.scheme == SCHEME_DIGITAL]
        reasm = DigitalReassembler()
        done = []
        for f in got:
            done += reasm.add(f)
        done += reasm.flush()
        res = decode_assembly(done[-1], stop_early=stop_early) if done else None
        out = res.image if res is not None and res.image is not None else \
            np.full_like(image, 128)
        return {"result": res, "encoded": e, "frames": got, "image": out,
                "lost": res is None or res.lost, "psnr": psnr(image, out),
                "ssim": ssim(image, out) if with_ssim else float("nan"),
                "snr_est": [f.snr_db for f in got],
                "codewords": e.n_codewords,
                "codewords_lost": e.n_codewords if res is None else res.codewords_lost}


def jscc_link(codec, seed: int, settings=None) -> PhyLink:
    link = PhyLink(codec, seed=seed, settings=settings)
    link.framer.session = 1        # fixed header bits (a drawn run id would change the run)
    return link


def jscc_send(link: PhyLink, img, tx_snr, snr) -> dict:
    r = link.send(img, link.codec.C, tx_snr, snr, with_ssim=True)
    return {"psnr": r.psnr_db, "ssim": r.ssim, "snr_est": r.frame_snrs}


def olla_auto(ctl: McsController, per: dict, snr: float, warmup: int, measured: int,
              seq: int):
    """``--mcs auto`` with its outer loop at one SNR, from the per-MCS outcomes measured there:
    each image's MCS from the controller (the SNR reported as measured: the true one), its
    outcome (decoded or lost at that MCS, on that image) fed back. ``warmup`` images first,
    then ``measured`` ones, the measured images in turn (the outer loop's steady state: it
    aims at 10% of images lost, which two images cannot show). -> per-image results, the MCS
    of each, the next report number."""
    n = len(next(iter(per.values())))
    out, used = [], []
    for i in range(warmup + measured):
        ctl.on_report(Report(seq, snr), float(seq))
        seq += 1
        m = ctl.decide(float(seq)).mcs
        r = per[m][i % n]
        ctl.on_outcome(seq, r["lost"])
        if i >= warmup:
            out.append(r)
            used.append(m)
    return out, used, seq


def _runs(names) -> str:
    out = []
    for n in names:
        if out and out[-1][0] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return ",".join(f"{n}x{k}" for n, k in out)


def _stats(rs) -> dict:
    return {"psnr": float(np.mean([r["psnr"] for r in rs])),
            "ssim": float(np.mean([r["ssim"] for r in rs])),
            "lost": int(sum(r["lost"] for r in rs)),
            "per_image_psnr": [float(r["psnr"]) for r in rs]}


def sweep(codec, imgs, budget, snrs, settings, seed, ctl_th, label, warmup=10, measured=20):
    """Per SNR (ascending), JSCC and every MCS on the same images; ``auto``: ``--mcs auto``
    with the outer loop (:func:`olla_auto`, its state carried from SNR to SNR, ``warmup``
    images at each before ``measured`` ones); ``auto_awgn``: the AWGN thresholds alone (the
    controller without its outer loop, as before OLLA)."""
    print(f"\n{label}: PSNR dB / SSIM, mean over {len(imgs)} images "
          f"(digital: lost images count as grey; auto: with the outer loop, mean over "
          f"{measured} images after {warmup} of warm-up per SNR, cycling the measured images' "
          "outcomes; AWGN th.: the AWGN thresholds alone)")
    head = ["SNR", "JSCC", "digital auto", "AWGN th."] + [m.name for m in mcs.TABLE]
    ctl, seq = McsController(ctl_th), 0
    print("  " + " | ".join(f"{h:>13}" for h in head))
    rows = []
    for snr in snrs:
        jl = jscc_link(codec, seed, settings)
        j = [jscc_send(jl, img, snr, snr) for img in imgs]
        per = {}
        for m in mcs.TABLE:
            dl = DigitalLink(budget, seed=seed, settings=settings)
            per[m.name] = [dl.send(img, m, snr, snr, stop_early=True) for img in imgs]
        awgn_only = McsController(ctl_th, hysteresis_db=0.0, olla_step_db=0.0) \
            .best_for(snr).name
        auto_rs, auto_used, seq = olla_auto(ctl, per, snr, warmup, measured, seq)
        row = {"snr_db": snr, "jscc_psnr": float(np.mean([r["psnr"] for r in j])),
               "jscc_ssim": float(np.mean([r["ssim"] for r in j])), "auto_mcs": auto_used,
               "olla_offset_db": round(ctl.offset, 3), "awgn_only_mcs": awgn_only}
        for name, rs in per.items():
            row[name] = _stats(rs)
        row["auto"] = _stats(auto_rs)
        row["auto_awgn"] = row[awgn_only]
        rows.append(row)
        cells = [f"{snr:13g}", f"{row['jscc_psnr']:6.2f}/{row['jscc_ssim']:.3f}",
                 f"{row['auto']['psnr']:6.2f}/{row['auto']['ssim']:.3f}",
                 f"{row['auto_awgn']['psnr']:6.2f}/{row['auto_awgn']['ssim']:.3f}"] + \
                [f"{row[m.name]['psnr']:6.2f}/{row[m.name]['ssim']:.3f}" for m in mcs.TABLE]
        print("  " + " | ".join(f"{c:>13}" for c in cells),
              f"(auto: {_runs(auto_used)}, {row['auto']['lost']} lost, offset "
              f"{ctl.offset:+.2f} dB; AWGN th.: {awgn_only})", flush=True)
    return rows


def eval_gap(codec, imgs, rows) -> list[dict]:
    """Per MCS: the digital link through the PHY against ``semcom eval --digital``'s practical
    baseline (:func:`models.baselines.digital_links`) on the same images at the AWGN SNRs
    where every image's codewords decoded through the PHY. -> rows for the table."""
    from models.baselines import run_baseline

    n = codec.symbols_for(codec.C, 256, 256) + codec.side_symbols()
    th = mcs.thresholds()
    out = []
    for m in mcs.TABLE:
        ok = [r for r in rows if r[m.name]["lost"] == 0]
        if not ok:
            out.append({"mcs": m.name, "threshold_db": th[m.name], "decoded_from_db": None})
            continue
        phy = float(np.mean(ok[0][m.name]["per_image_psnr"]))
        ev = [run_baseline(f"digital_{m.name}", img, n, ok[0]["snr_db"]) for img in imgs]
        ev_psnr = float(np.mean([psnr(img, c.image) for img, c in zip(imgs, ev, strict=True)]))
        out.append({"mcs": m.name, "threshold_db": th[m.name],
                    "decoded_from_db": ok[0]["snr_db"], "phy_psnr": phy, "eval_psnr": ev_psnr,
                    "eval_delivered": all(c.delivered for c in ev)})
    print("\nthe digital link through the PHY against semcom eval --digital's baseline "
          f"({n} channel uses), AWGN:")
    print("  MCS        | threshold dB | all images decoded from dB | PHY PSNR | eval PSNR | gap")
    for r in out:
        if r["decoded_from_db"] is None:
            print(f"  {r['mcs']:>10} | {r['threshold_db']:12.2f} | never on this grid")
            continue
        print(f"  {r['mcs']:>10} | {r['threshold_db']:12.2f} | {r['decoded_from_db']:26g} | "
              f"{r['phy_psnr']:8.2f} | {r['eval_psnr']:9.2f} | "
              f"{r['phy_psnr'] - r['eval_psnr']:+.2f}")
    return out


def trace_run(codec, imgs, budget, n, seed, ctl_th):
    walk = RandomWalk("0,25,5", seed)
    snrs = [walk.value(i) for i in range(n)]
    jl = jscc_link(codec, seed)
    dl = DigitalLink(budget, seed=seed)
    ctl = McsController(ctl_th)
    j_snr, seq, out = None, 0, []
    for i, snr in enumerate(snrs):
        img = imgs[i % len(imgs)]
        tx = j_snr if j_snr is not None else 10.0          # JSCC: last report's SNR
        jr = jscc_send(jl, img, tx, snr)
        if jr["snr_est"]:
            j_snr = float(np.mean(jr["snr_est"]))
        d = ctl.decide(float(i))
        dr = dl.send(img, d.mcs, snr, d.snr_used_db or 10.0, stop_early=True)
        for s in dr["snr_est"]:
            ctl.on_report(Report(seq, s), float(i) + 0.5)
            seq += 1
        ctl.on_outcome(i, dr["lost"])          # the image report: the outer loop
        out.append({"snr_db": snr, "jscc_psnr": jr["psnr"], "jscc_ssim": jr["ssim"],
                    "mcs": d.mcs, "digital_psnr": dr["psnr"], "digital_ssim": dr["ssim"],
                    "digital_lost": dr["lost"]})
    print(f"\nrandom walk 0..25 dB (step std 5 dB), {n} images, both adaptive from the RX's "
          "reports of the previous image:")
    print("  image | SNR dB | JSCC PSNR/SSIM | digital MCS | digital PSNR/SSIM")
    for i, r in enumerate(out):
        print(f"  {i:5d} | {r['snr_db']:6.2f} | {r['jscc_psnr']:6.2f}/{r['jscc_ssim']:.3f} | "
              f"{r['mcs']:>11} | {r['digital_psnr']:6.2f}/{r['digital_ssim']:.3f}"
              + ("  lost" if r["digital_lost"] else ""))
    jp = np.mean([r["jscc_psnr"] for r in out])
    dp = np.mean([r["digital_psnr"] for r in out])
    js = np.mean([r["jscc_ssim"] for r in out])
    ds = np.mean([r["digital_ssim"] for r in out])
    lost = sum(r["digital_lost"] for r in out)
    print(f"  mean: JSCC {jp:.2f} dB / {js:.3f}, digital {dp:.2f} dB / {ds:.3f} "
          f"({lost} of {n} digital images lost)")
    return out


def measure_thresholds(budget, imgs, seed, target=0.01) -> dict:
    """Per MCS, the lowest SNR (0.25 dB grid) with at most ``target`` codeword loss."""
    out, detail = {}, {}
    for m in mcs.TABLE:
        need = max(1, -(-200 // max(1, DigitalEncoder(budget).encode(
            imgs[0], 0, m).n_codewords)))            # >= 200 codewords per point
        cache = {}

        def loss(snr, m=m, need=need, cache=cache):
            if snr not in cache:
                link = DigitalLink(budget, seed=seed * 1000 + int(round((snr + 30) * 4)))
                lost = total = 0
                for i in range(need):
                    r = link.send(imgs[i % len(imgs)], m, snr, snr, with_ssim=False)
                    lost += r["codewords_lost"]
                    total += r["codewords"]
                cache[snr] = lost / total
                print(f"  {m.name:>10} {snr:6.2f} dB: {lost}/{total} codewords lost",
                      flush=True)
            return cache[snr]

        snr = mcs.NOMINAL_DB[m.name] - 5.0
        if loss(snr) <= target:                 # start was already good: walk down
            while snr > -10 and loss(snr - 1.0) <= target:
                snr -= 1.0
        while loss(snr) > target and snr < 40:
            snr += 1.0
        lo = snr - 1.0
        for s in np.arange(lo + 0.25, snr, 0.25):
            if loss(float(s)) <= target:
                snr = float(s)
                break
        out[m.name] = float(snr)
        detail[m.name] = {f"{k:g}": round(v, 4) for k, v in sorted(cache.items())}
    return {"threshold_db": out, "codeword_loss": detail}


def plot(rows_awgn, rows_mp, trace, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), sharey=True)
    for ax, rows, title in ((axes[0], rows_awgn, "AWGN"), (axes[1], rows_mp,
                                                          "multipath (incp)")):
        s = [r["snr_db"] for r in rows]
        for m in mcs.TABLE:
            ax.plot(s, [r[m.name]["psnr"] for r in rows], lw=0.8, alpha=0.6, ls="--",
                    label=f"digital {m.name}")
        ax.plot(s, [r["auto_awgn"]["psnr"] for r in rows], color="0.6", ls=":", marker="x",
                ms=4, label="digital, MCS from AWGN thresholds only")
        ax.plot(s, [r["auto"]["psnr"] for r in rows], "k-s", ms=3,
                label="digital, MCS auto (outer loop)")
        ax.plot(s, [r["jscc_psnr"] for r in rows], "r-o", ms=4, lw=2, label="JSCC (default)")
        ax.set_title(title)
        ax.set_xlabel("SNR (dB)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("PSNR (dB)")
    axes[1].legend(fontsize=7, loc="lower right")
    if trace:
        ax = axes[2]
        i = np.arange(len(trace))
        ax.plot(i, [r["jscc_psnr"] for r in trace], "r-o", ms=4, lw=2, label="JSCC")
        ax.plot(i, [r["digital_psnr"] for r in trace], "k-s", ms=3, label="digital, MCS auto")
        tw = ax.twinx()
        tw.plot(i, [r["snr_db"] for r in trace], color="tab:blue", lw=0.8, ls=":",
                label="SNR")
        tw.set_ylabel("SNR (dB)", color="tab:blue")
        ax.set_title("random walk 0..25 dB, both adaptive")
        ax.set_xlabel("image")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("JSCC (default model) vs digital (WebP + LDPC + QAM): equal air time per "
                 "image, through the OFDM PHY and channel emulator", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--images", type=int, default=2)
    p.add_argument("--trace-images", type=int, default=16)
    p.add_argument("--awgn", default=",".join(map(str, AWGN_SNRS)),
                   help="AWGN SNRs, dB (comma-separated)")
    p.add_argument("--multipath", default=",".join(map(str, MULTIPATH_SNRS)),
                   help="SNRs on the incp multipath profile, dB (empty: skip)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--png", default="docs/versus.png")
    p.add_argument("--json", default="", help="write every number here too")
    p.add_argument("--thresholds", action="store_true",
                   help="measure the MCS thresholds (1%% codeword loss) and write "
                        "semcom/fec/thresholds.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    codec = JSCCCodec.load(args.model)
    imgs = crops(args.images)
    budget = jscc_budget(codec, 256, 256)
    print(f"model {codec.model_hash} ({args.model}), {len(imgs)} images 256x256; air time per "
          f"image: {budget.ofdm_symbols} OFDM symbols in {budget.bursts} bursts "
          f"({budget.ofdm_symbols * nm.SYM_LEN} samples plus guards)")
    if args.thresholds:
        res = measure_thresholds(budget, imgs, args.seed)
        res["command"] = "python -m benchmarks.versus " + " ".join(sys.argv[1:] if argv is None
                                                                    else argv)
        res["criterion"] = "lowest SNR (0.25 dB grid) with <= 1% codewords lost, AWGN, " \
                           "through the OFDM PHY and channel emulator"
        mcs.THRESHOLDS.write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res["threshold_db"], indent=1))
        print(f"wrote {mcs.THRESHOLDS} ({time.perf_counter() - t0:.0f} s)")
        return 0
    th = mcs.thresholds()
    enc = DigitalEncoder(budget, session=1)
    print("digital at this air time: MCS, codewords, WebP bytes (first image), quality")
    for m in mcs.TABLE:
        e = enc.encode(imgs[0], 0, m)
        print(f"  {m.name:>10}: {e.n_codewords:4d} codewords, {e.file_bytes:6d} B, q {e.quality}"
              f"{f', 1/{e.scale} size' if e.scale > 1 else ''}, {e.ofdm_symbols} OFDM symbols, "
              f"threshold {th[m.name]:.2f} dB")
    snrs = [float(x) for x in args.awgn.split(",") if x.strip()]
    mp_snrs = [float(x) for x in args.multipath.split(",") if x.strip()]
    awgn = sweep(codec, imgs, budget, snrs, None, args.seed, th, "AWGN")
    mp = sweep(codec, imgs, budget, mp_snrs, {"multipath": "incp"}, args.seed, th,
               "multipath profile incp") if mp_snrs else []
    gap = eval_gap(codec, imgs, awgn)
    tr = trace_run(codec, imgs, budget, args.trace_images, args.seed, th) \
        if args.trace_images else []
    if args.png and awgn and mp:
        plot(awgn, mp, tr, args.png)
    if args.json:
        Path(args.json).write_text(json.dumps({"awgn": awgn, "multipath": mp, "trace": tr,
                                               "eval_gap": gap},
                                              indent=1))
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
