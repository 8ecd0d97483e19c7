"""PHY benchmark: frame loss, SNR estimate, implementation loss against simulation, false
alarms on noise, and speed. Prints numbers; asserts nothing (the tests do that).

    python -m benchmarks.phy [--model default] [--images N] [--noise-seconds 60]
                             [--latency-rate 1e6] [--stream-images 20] [--speed-only]
                             [--plot runs/phy_delivery.png] [--dc-block 1024]

Speed rows: the RX PHY alone; the RX with the JSCC decoder as fast as possible; and paced runs
(1, 2 and 4 MS/s in real time, ``--stream-images`` back-to-back 256x256 full-keep images),
each with the decoder in its own thread (as ``semcom rx`` runs it) and inline in the PHY's
thread (the old way, for comparison): the PHY's lag behind real time, the decoder's queue wait
(its lag) and depth, images lost, and the latency from an image's last (and first) sample to
its PNG on disk. ``--speed-only`` prints only these (seconds, not minutes).

Frame delivery (detected, header decoded, payload accepted, over frames sent) from -4 to
25 dB is printed and plotted as a PNG (drawn with PIL: no plotting library needed).

Channel: a 2 ppm sample-clock offset (the channel emulator's band-limited interpolation),
GNU Radio's ``channels.channel_model`` with AWGN in the product's SNR convention
(:func:`semcom.numerology.noise_voltage_for_snr`) and a 20 kHz carrier offset at 1 MS/s,
then the RX graph's DC blocker (``--dc-block``, 0: off); a row with a DC offset 4x the noise's
power shows what the blocker is for. Images: the built-in held-out photos, centre 256x256.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from gnuradio import blocks, channels, gr

from calibration.pipeline import modulate, tagged_source
from channel import ChannelCore, Settings
from models.channels import AWGN
from models.codec import JSCCCodec
from models.data import load_split
from models.metrics import psnr
from sdr_rx.dc_blocker import DEFAULT_LENGTH, dc_blocker
from sdr_rx.framelog import FrameLog
from sdr_rx.jscc_decoder import QUEUE_IMAGES, jscc_decoder
from sdr_rx.reassembly import Reassembler
from sdr_rx.stream_receiver import StreamReceiver
from sdr_tx.framer import Framer
from sdr_tx.ofdm_modulator import ofdm_modulator
from semcom import numerology as nm

SR = 1e6


def centre_crops(n: int, size: int = 256) -> list[np.ndarray]:
    out = []
    for im in load_split("heldout")[:n]:
        a = im.array
        y, x = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
        out.append(np.ascontiguousarray(a[y:y + size, x:x + size]))
    return out


def tx_speed(frames_vec, repeat: int = 20) -> float:
    """MS/s of the modulator alone (into a null sink)."""
    tb = gr.top_block()
    src = tagged_source(frames_vec * repeat)
    mod = ofdm_modulator()
    tb.connect(src, mod, blocks.null_sink(gr.sizeof_gr_complex))
    t0 = time.perf_counter()
    tb.run()
    return mod.total / (time.perf_counter() - t0) / 1e6


DC_BLOCK = DEFAULT_LENGTH     # the RX graph's DC blocker (--dc-block; 0: off)


def channel(x: np.ndarray, snr_db: float, cfo_hz: float = 20e3, sro_ppm: float = 2.0,
            seed: int = 1, dc_offset: float = 0.0) -> np.ndarray:
    """The channel: a sample-clock offset of ``sro_ppm`` (the channel emulator's band-limited
    interpolation, :class:`channel.ChannelCore`: GNU Radio's ``channel_model`` does it with an
    8-tap MMSE interpolator whose droop at the outer carriers, about 1.3 dB, costs real SNR,
    the channel's doing, not the receiver's), then ``channel_model`` (CFO, AWGN in the
    product's SNR convention), then the RX graph's DC blocker (as ``semcom rx`` runs it,
    before the detector). ``dc_offset``: a DC offset with this many times the noise's power."""
    pad = np.zeros(1000, np.complex64)
    x = np.concatenate([pad, x, pad])
    if sro_ppm:
        core = ChannelCore(Settings(sro_ppm=sro_ppm), samp_rate=SR)
        x = np.concatenate([core.process(x), core.process(pad[:0])])
    tb = gr.top_block()
    src = blocks.vector_source_c(x)
    sigma = nm.noise_voltage_for_snr(snr_db)
    ch = channels.channel_model(sigma, cfo_hz / SR, 1.0, [1.0], seed)
    snk = blocks.vector_sink_c()
    chain = [src, ch]
    if dc_offset:
        chain.append(blocks.add_const_cc(np.sqrt(dc_offset / 2) * sigma * (1 + 1j)))
    chain.append(dc_blocker(DC_BLOCK))
    tb.connect(*chain, snk)
    tb.run()
    return np.asarray(snk.data(), dtype=np.complex64)


def plot_curve(path: str, snrs, pct, title: str) -> None:
    """Delivery (%) against SNR (dB) as a PNG line plot, drawn with PIL."""
    from pathlib import Path

    from PIL import Image, ImageDraw

    w, h, l, r, t, b = 640, 420, 60, 20, 50, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    x0, x1 = min(snrs), max(snrs)

    def xy(sv, pv):
        return (l + (sv - x0) / max(x1 - x0, 1e-9) * (w - l - r), h - b - pv / 100 * (h - t - b))

    for pv in range(0, 101, 10):
        y = xy(x0, pv)[1]
        d.line([(l, y), (w - r, y)], fill=(225, 225, 225))
        d.text((l - 30, y - 6), f"{pv}", fill="black")
    for sv in range(int(np.ceil(x0)), int(np.floor(x1)) + 1, 2):
        x = xy(sv, 0)[0]
        d.line([(x, t), (x, h - b)], fill=(225, 225, 225))
        d.text((x - 6, h - b + 6), f"{sv}", fill="black")
    for target_snr, target in ((0, 99), (-2, 90)):      # the targets, red circles
        tx, ty = xy(target_snr, target)
        d.ellipse([tx - 4, ty - 4, tx + 4, ty + 4], outline=(200, 0, 0))
    d.rectangle([l, t, w - r, h - b], outline="black")
    d.line([xy(sv, pv) for sv, pv in zip(snrs, pct, strict=True)], fill=(0, 70, 200), width=2)
    for sv, pv in zip(snrs, pct, strict=True):
        x, y = xy(sv, pv)
        d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(0, 70, 200))
    d.text((l, 6), title, fill="black")
    d.text((w // 2 - 60, h - 22), "SNR (dB, product convention)", fill="black")
    d.text((6, t - 18), "delivered %", fill="black")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def receive(y: np.ndarray, chunk: int = 8192, cpu: bool = False):
    """-> (frames, log, MS/s over wall-clock time[, MS/s over this process's CPU time])."""
    log = FrameLog()
    rx = StreamReceiver(SR, log=log)
    frames = []
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(y), chunk):
        frames += rx.push(y[i:i + chunk])
    frames += rx.drain()
    wall = len(y) / (time.perf_counter() - t0) / 1e6
    if cpu:
        return frames, log, wall, len(y) / max(time.process_time() - c0, 1e-9) / 1e6
    return frames, log, wall


def rx_with_decoder(y: np.ndarray, model: str, threads: int, rate: float | None = None,
                    chunk: int = 4096, queue_images: int = QUEUE_IMAGES) -> dict:
    """The RX as one process runs it: StreamReceiver on ``chunk``-sample blocks, then the JSCC
    decoder block (reassembly, side information, decode, PNG written to a temporary folder) in
    its own thread behind a bounded queue (``queue_images=0``: inline, in the PHY's thread).
    ``rate``: deliver the blocks at ``rate`` samples/s in real time (a block is pushed once its
    last sample has arrived); None: as fast as possible.

    -> MS/s over the whole stream, images, decode ms per image; with ``rate``, per image the
    latency from the arrival of its first sample (``latency_first_ms``) and of its last sample
    (``latency_ms``, the end of the frame that completes it) to its PNG on disk, the decoder's
    queue wait per image, and the PHY's lag (how far behind real time a block was when the PHY
    finished it: max and at the end)."""
    dec = jscc_decoder(model, threads=threads, out_dir=tempfile.mkdtemp(prefix="semcom_phy_"),
                       queue_images=queue_images)
    done = []
    dec.on_image = lambda rec, img: done.append((rec, time.perf_counter()))
    rx = StreamReceiver(SR, log=FrameLog())
    first, last = {}, {}            # image id -> first / one-past-last sample of its frames
    phy_lag = []
    t0 = time.perf_counter()
    for i in range(0, len(y), chunk):
        end = min(i + chunk, len(y))
        if rate:
            wait = t0 + end / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        for f in rx.push(y[i:end]):
            n_ofdm = 2 + nm.HEADER_SYMBOLS + -(-f.header.payload_len // nm.N_DATA)
            k = f.header.image_id
            first[k] = min(first.get(k, f.start), f.start)
            last[k] = max(last.get(k, 0), f.start + n_ofdm * nm.SYM_LEN)
            dec.add_frame(f)
        if rate:
            phy_lag.append(1e3 * (time.perf_counter() - (t0 + end / rate)))
    t_phy = time.perf_counter() - t0
    dec.flush()
    dt = time.perf_counter() - t0
    got = [(r, t) for r, t in done if not r.get("lost")]
    out = {"msps": len(y) / dt / 1e6, "phy_msps": len(y) / t_phy / 1e6, "images": len(got),
           "lost": len(done) - len(got), "decode_ms": [r["decode_ms"] for r, _ in got
                                                       if "decode_ms" in r],
           "queue_ms": [r.get("queue_ms", 0.0) for r, _ in got],
           "max_queue_depth": dec.max_queue_depth, "latency_ms": [], "latency_first_ms": []}
    if rate:
        for r, t in got:
            k = r["image_id"]
            out["latency_ms"].append(1e3 * (t - (t0 + last[k] / rate)))
            out["latency_first_ms"].append(1e3 * (t - (t0 + first[k] / rate)))
        out["phy_lag_max_ms"] = max(phy_lag) if phy_lag else float("nan")
        out["phy_lag_end_ms"] = phy_lag[-1] if phy_lag else float("nan")
    dec.stop()
    return out


def paced_rows(y: np.ndarray, model: str, n_images: int, rates=(1e6, 2e6, 4e6)) -> None:
    """The real-time rows: the decoder in its own thread (and, for comparison, inline)."""
    print("  paced runs, back-to-back 256x256 full-keep images, 4096-sample blocks in real time,"
          " one torch thread:")
    print("  MS/s | decoder | images | PHY lag max/end ms | decoder queue wait median/max ms"
          " (max depth) | latency last sample -> PNG median/max ms | first sample -> PNG"
          " median ms")
    for rate in rates:
        for q, name in ((QUEUE_IMAGES, "thread"), (0, "inline")):
            r = rx_with_decoder(y, model, 1, rate=rate, queue_images=q)
            lt, lf, qw = (np.array(r[k]) for k in ("latency_ms", "latency_first_ms",
                                                      "queue_ms"))

            def med(a):
                return float(np.median(a)) if len(a) else float("nan")

            def mx(a):
                return float(np.max(a)) if len(a) else float("nan")
            print(f"  {rate / 1e6:4g} | {name:7s} | {r['images']}/{n_images}"
                  f"{' lost ' + str(r['lost']) if r['lost'] else ''} | "
                  f"{r['phy_lag_max_ms']:7.1f} / {r['phy_lag_end_ms']:7.1f} | "
                  f"{med(qw):6.1f} / {mx(qw):6.1f} ({r['max_queue_depth']}) | "
                  f"{med(lt):6.1f} / {mx(lt):6.1f} | {med(lf):6.1f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--images", type=int, default=5)
    p.add_argument("--noise-seconds", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--latency-rate", type=float, default=SR,
                   help="sample rate (S/s) the latency run delivers the stream at, real time")
    p.add_argument("--stream-images", type=int, default=20,
                   help="images in the paced (real-time) stream: the test images again under "
                        "new ids")
    p.add_argument("--speed-only", action="store_true",
                   help="only the speed and latency rows (no delivery curve, loss, noise)")
    p.add_argument("--plot", default="runs/phy_delivery.png",
                   help="PNG of the delivery curve ('' for none)")
    p.add_argument("--dc-block", type=int, default=DEFAULT_LENGTH,
                   help="the RX graph's DC blocker time constant, samples (0: off)")
    args = p.parse_args(argv)
    global DC_BLOCK
    DC_BLOCK = args.dc_block
    torch.set_num_threads(args.threads)
    codec = JSCCCodec.load(args.model)
    imgs = centre_crops(args.images)
    framer = Framer(codec.model_hash, codec.C, session=1)   # fixed: same header bits each run
    tx_snr = 10.0
    vecs, sent = [], []
    for i, img in enumerate(imgs):
        z, side = codec.encode_side(img, tx_snr)
        fr = framer.frames(z, i, img.shape[:2], tx_snr, side)
        vecs += [v for _, v in fr]
        sent.append((img, z, side))
    x = modulate(vecs)
    n_frames = len(vecs)
    print(f"model {codec.model_hash}, {len(imgs)} images 256x256, {n_frames} frames, "
          f"{len(x)} samples ({len(x) / len(imgs) / SR * 1e3:.1f} ms of air per image at 1 MS/s)")
    print(f"TX PHY (carrier allocator, IFFT, CP, level; C++ + numpy): {tx_speed(vecs):.1f} MS/s")

    if not args.speed_only:     # the quality rows (minutes)
        print("\nframe delivery and SNR estimate (AWGN, CFO 20 kHz, sample clock +2 ppm):")
        print("  SNR dB | frames delivered | sync fails | header CRC fails | cut |"
              " est SNR mean / RMS err dB | RX MS/s")
        est_err, est_mid, snrs, pct = [], [], [], []
        for snr in (-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 25):
            y = channel(x, snr)
            frames, log, speed = receive(y)
            c = log.summary()
            est = np.array([f.snr_db for f in frames])
            rms = float(np.sqrt(np.mean((est - snr) ** 2))) if len(est) else float("nan")
            if snr >= 0 and len(est):
                est_err += list(est - snr)
            if 5 <= snr <= 20 and len(est):
                est_mid += list(est - snr)
            snrs.append(snr)
            pct.append(100 * len(frames) / n_frames)
            print(f"  {snr:6.1f} | {len(frames):4d}/{n_frames} ({pct[-1]:5.1f}%) | "
                  f"{c['sync_fail']:4d} | {c['crc_fail']:4d} | "
                  f"{c['truncated']:3d} | {est.mean() if len(est) else float('nan'):6.2f}"
                  f" / {rms:4.2f} | {speed:.2f}")
        print(f"  SNR estimate RMS error over 0..25 dB: "
              f"{float(np.sqrt(np.mean(np.square(est_err)))):.2f} dB, over 5..20 dB: "
              f"{float(np.sqrt(np.mean(np.square(est_mid)))):.2f} dB")
        print("  (sync fails: triggers the LTF did not confirm, noise included; CRC fails: headers"
              " tried and lost, a burst can count more than once)")
        print(f"\nDC offset with 4x the noise's power, DC blocker {args.dc_block or 'off'}:")
        for snr in (0, 10):
            y = channel(x, snr, dc_offset=4.0)
            frames, log, speed = receive(y)
            c = log.summary()
            print(f"  {snr:6.1f} dB | {len(frames):4d}/{n_frames} delivered | {c['sync_fail']:5d} "
                  f"sync fails in {len(y) / SR:.2f} s | RX {speed:.2f} MS/s")
        if args.plot:
            plot_curve(args.plot, snrs, pct, f"semcom frame delivery, AWGN + 20 kHz CFO, "
                       f"{n_frames} frames per point")
            print(f"  delivery curve: {args.plot}")

        print("\nimplementation loss: PSNR through the PHY vs simulation (same model, keep C):")
        print("  SNR dB | PHY PSNR | sim PSNR | loss dB | PHY est SNR dB")
        sim_psnr = {}
        for snr, sro in ((5, 2.0), (10, 2.0), (15, 2.0), (20, 2.0), (10, 0.0)):
            y = channel(x, snr, sro_ppm=sro, seed=int(snr) + 7)
            frames, _, _ = receive(y)
            reasm = Reassembler(needs_side=codec.side_bits > 0)
            got = []
            for f in frames:
                got += reasm.add(f)
            got += reasm.flush()
            phy = []
            for a in got:
                img, z, side = sent[a.image_id]
                sym, nv = a.latent()
                phy.append(psnr(img, codec.decode(sym, img.shape[:2], a.snr_db, a.keep, nv,
                                                  a.side_info(codec.side_bits), a.tx_snr_db)))
            if snr not in sim_psnr:
                sim = []
                for i, (img, z, side) in enumerate(sent):
                    for s in range(3):
                        g = torch.Generator().manual_seed(100 * i + s)
                        yy, nv = AWGN(g)(torch.from_numpy(z)[None], torch.tensor([float(snr)]))
                        sim.append(psnr(img, codec.decode(yy[0].numpy(), img.shape[:2], snr,
                                                          side=side, tx_snr_db=tx_snr)))
                sim_psnr[snr] = float(np.mean(sim))
            note = "" if sro else "   (no sample-clock offset)"
            print(f"  {snr:6.1f} | {np.mean(phy):8.2f} | {sim_psnr[snr]:8.2f} | "
                  f"{sim_psnr[snr] - np.mean(phy):+.2f} | "
                  f"{np.mean([f.snr_db for f in frames]):6.2f}{note}")
        print("  (a 2 ppm sample-clock offset walks every frame through every fractional timing"
              " offset: the estimator shifts the channel onto a whole sample; last row: none)")

        n = int(args.noise_seconds * SR)
        rng = np.random.default_rng(9)
        log = FrameLog()
        rx = StreamReceiver(SR, log=log)
        accepted = 0
        t0 = time.perf_counter()
        for i in range(0, n, 1 << 18):
            m = min(1 << 18, n - i)
            noise = ((rng.standard_normal(m) + 1j * rng.standard_normal(m)) * 0.1).astype(
                np.complex64)
            accepted += len(rx.push(noise))
        dt = time.perf_counter() - t0
        c = log.summary()
        print(f"\nnoise only, {args.noise_seconds:g} s at 1 MS/s: {accepted} frames accepted, "
              f"{c['sync_fail']} sync failures, {c['crc_fail']} CRC failures "
              f"({n / dt / 1e6:.1f} MS/s)")

    y = channel(x, 15.0)
    runs = [receive(y, cpu=True)[2:] for _ in range(5)]
    phy, phy_cpu = [r[0] for r in runs], [r[1] for r in runs]
    # the decoder with one torch thread, as `semcom rx` runs it; the first run warms it up
    full = [rx_with_decoder(y, args.model, 1) for _ in range(4)][1:]
    air = len(y) / SR
    dec_ms = np.median(sum((r["decode_ms"] for r in full), []))
    print(f"\nRX speed, 15 dB, {len(imgs)} images ({air:.3f} s of air at 1 MS/s):")
    print(f"  RX PHY alone (StreamReceiver), 5 runs: median {np.median(phy):.2f} MS/s, best "
          f"{np.max(phy):.2f} (wall clock); per CPU second of this process median "
          f"{np.median(phy_cpu):.2f} (other jobs on a shared machine slow the wall clock)")
    print(f"  RX PHY + JSCC decoder (reassembly, side info, decode, PNG; decoder in its own "
          f"thread, one torch thread), as fast as possible: "
          f"{np.median([r['msps'] for r in full]):.2f} MS/s (decode {dec_ms:.1f} ms per image)")
    svecs = []
    for i in range(args.stream_images):     # the same symbols under new image ids
        _, z, side = sent[i % len(sent)]
        svecs += [v for _, v in framer.frames(z, i, imgs[0].shape[:2], tx_snr, side)]
    ys = channel(modulate(svecs), 15.0)
    print(f"\nreal time, 15 dB, {args.stream_images} images back to back "
          f"({len(ys) / SR:.3f} s of air at 1 MS/s):")
    paced_rows(ys, args.model, args.stream_images, tuple(dict.fromkeys(
        (args.latency_rate, 2e6, 4e6))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
