"""Channel emulator and loopback benchmark (prints numbers).

    python -m benchmarks.channel [--model default] [--skip-loopback]

- accuracy: SNR (from the noise it adds) over -5..30 dB, CFO and sample-rate offset as set,
  bit-identical output for one seed;
- speed of the emulator alone (numpy core) with AWGN + CFO + static taps, and with fading;
- loopback at 15 dB, ``--tx-snr 15``, against simulation on the same images, model and keep,
  and the as-fast-as-possible throughput through the three processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from channel import ChannelCore, Settings
from semcom import numerology as nm


def accuracy() -> None:
    print("SNR accuracy (noise measured on 1 M samples):")
    worst = 0.0
    for snr in (-5, 0, 5, 10, 15, 20, 25, 30):
        x = np.zeros(1_000_000, np.complex64)
        x[:10] = 0.25
        y = ChannelCore(Settings(snr_db=float(snr)), seed=snr + 100).process(x)[1000:]
        meas = 10 * np.log10(0.25 ** 2 * nm.FFT_LEN / nm.N_USED / np.mean(np.abs(y) ** 2))
        worst = max(worst, abs(meas - snr))
        print(f"  set {snr:5.1f} dB  measured {meas:6.2f} dB")
    print(f"  largest error {worst:.3f} dB (target <= 0.2)")
    x = np.full(200_000, 0.25, np.complex64)
    y = ChannelCore(Settings(cfo_hz=25_000.0)).process(x)
    f = np.angle(np.sum(y[1:] * np.conj(y[:-1]))) / (2 * np.pi) * 1e6
    print(f"  CFO set 25000 Hz, measured {f:.2f} Hz")
    n = 400_000
    tone = (0.25 * np.exp(2j * np.pi * 0.01 * np.arange(n))).astype(np.complex64)
    y = ChannelCore(Settings(sro_ppm=50.0)).process(tone)
    f = np.angle(np.sum(y[1001:-1000] * np.conj(y[1000:-1001]))) / (2 * np.pi)
    print(f"  SRO set 50 ppm, measured {(f / 0.01 - 1) * 1e6:.2f} ppm")
    xb = np.tile(np.concatenate([np.zeros(400), np.ones(4000) * 0.25]), 20).astype(np.complex64)
    a = ChannelCore(Settings(snr_db=10, cfo_hz=1e3, multipath="incp"), seed=5).process(xb)
    c = ChannelCore(Settings(snr_db=10, cfo_hz=1e3, multipath="incp"), seed=5)
    b = np.concatenate([c.process(xb[i:i + 3333]) for i in range(0, len(xb), 3333)])
    print(f"  same seed, different chunking: bit-identical = {np.array_equal(a, b[:len(a)])}")


def speed() -> None:
    rng = np.random.default_rng(0)
    x = ((rng.standard_normal(1 << 20) + 1j * rng.standard_normal(1 << 20)) * 0.18).astype(
        np.complex64)
    x[::5000] = 0
    cases = {"AWGN": dict(snr_db=15.0), "AWGN+CFO": dict(snr_db=15.0, cfo_hz=2e4),
             "AWGN+CFO+static taps (incp)": dict(snr_db=15.0, cfo_hz=2e4, multipath="incp"),
             "+Rayleigh fading (incp, 10 Hz)": dict(snr_db=15.0, cfo_hz=2e4, multipath="incp",
                                                    fading="rayleigh", doppler_hz=10.0),
             "+SRO 20 ppm": dict(snr_db=15.0, cfo_hz=2e4, sro_ppm=20.0)}
    print("emulator alone (numpy core, 2^20-sample blocks of 16384):")
    for name, s in cases.items():
        core = ChannelCore(Settings(**s))
        t0 = time.perf_counter()
        for i in range(0, len(x), 16384):
            core.process(x[i:i + 16384])
        print(f"  {name:<32} {len(x) / (time.perf_counter() - t0) / 1e6:6.1f} MS/s")


def loopback(model: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lb"
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "semcom", "loopback", "--snr", "15",
                            "--tx-snr", "15", "--seed", "1", "--model", model, "--out",
                            str(out)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode:
            print(p.stderr[-2000:])
            return
        s = json.loads((out / "summary.json").read_text())
        ev = subprocess.run([sys.executable, "-m", "semcom", "eval", "--images",
                             str(out / "originals"), "--snr", "15", "--model", model,
                             "--no-baselines", "--quiet", "--out", str(Path(tmp) / "e.json")],
                            capture_output=True, text=True)
        sim = json.loads((Path(tmp) / "e.json").read_text())["results"][0]["mean_psnr_db"] \
            if ev.returncode == 0 else float("nan")
        # throughput: 8 copies of the photos, so start-up does not dominate
        many = Path(tmp) / "many"
        many.mkdir()
        for i in range(8):
            for f in sorted((out / "originals").glob("*.png")):
                (many / f"{i}_{f.name}").write_bytes(f.read_bytes())
        p = subprocess.run([sys.executable, "-m", "semcom", "loopback", "--images", str(many),
                            "--model", model, "--out", str(Path(tmp) / "lb2")],
                           capture_output=True, text=True)
        s2 = json.loads((Path(tmp) / "lb2" / "summary.json").read_text())
    gap = s["mean_psnr_db"] - sim
    print(f"loopback at 15 dB (--tx-snr 15), {len(s['images'])} held-out photos: PSNR "
          f"{s['mean_psnr_db']:.2f} dB vs semcom eval {sim:.2f} dB ({gap:+.2f}); "
          f"frames {s['frames_received']}/{s['frames_sent']}")
    print(f"  as fast as possible, {len(s2['images'])} images (256 px): "
          f"{len(s2['images']) / s2['wall_s']:.2f} images/s, "
          f"{s2['total_samples'] / s2['wall_s'] / 1e6:.3f} MS/s through the three processes "
          f"over {s2['wall_s']:.1f} s including their start-up (the 5-image run: {wall:.1f} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--skip-loopback", action="store_true")
    args = p.parse_args(argv)
    accuracy()
    speed()
    if not args.skip_loopback:
        loopback(args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
