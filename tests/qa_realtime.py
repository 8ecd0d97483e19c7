"""``semcom loopback --realtime``: per stage (TX, channel, RX PHY, decoder), per image, how far
behind real time it is, in summary.json (issue 13). No timing assertions: the fields exist,
are finite and sensible; the lag arithmetic is checked on made-up times."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import phy_helpers as ph
import pytest

from apps.loopback import REALTIME_STAGES, realtime_lag

REPO = Path(__file__).resolve().parents[1]


def test_realtime_loopback_reports_each_stages_lag_per_image(tmp_path):
    model = ph.tiny_checkpoint(tmp_path / "model.pt")
    images = ph.test_images(tmp_path / "imgs", n=3, size=(64, 96))
    out = tmp_path / "lb"
    p = subprocess.run([sys.executable, "-m", "semcom", "loopback", "--realtime", "--images",
                        str(images), "--model", str(model), "--snr", "20", "--seed", "2",
                        "--out", str(out), "--frame-symbols", "480"],
                       capture_output=True, text=True, timeout=240, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["frames_received"] == s["frames_sent"] > 0
    lag = s["realtime_lag"]
    assert lag["realtime"] is True
    assert [r["image_id"] for r in lag["per_image"]] == [0, 1, 2]
    for r in lag["per_image"]:
        for stage in REALTIME_STAGES:
            v = r[f"{stage}_ms"]
            assert math.isfinite(v) and v >= 0, (stage, v)
    for stage in REALTIME_STAGES:
        assert lag["max_ms"][stage] == max(r[f"{stage}_ms"] for r in lag["per_image"])
        assert math.isfinite(lag["growth_ms"][stage])
        # each stage is at 0 for its best image
        assert min(r[f"{stage}_ms"] for r in lag["per_image"]) == 0
    # the truth log's times (the channel stage) are there, one per frame
    truth = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    assert len(truth) == s["frames_sent"] and all(t["t"] > 0 for t in truth)
    # in real time the RX runs without references (as on the air: evaluation takes none of
    # the stream's CPU) and the loopback scores the PNGs afterwards against the originals
    rx = json.loads((out / "rx" / "summary.json").read_text())
    assert rx["images"] and all(im.get("psnr_db") is None for im in rx["images"])
    from models.metrics import psnr
    from semcom.images import load_rgb
    originals = sorted((out / "originals").iterdir())
    for im in s["images"]:
        assert im["psnr_db"] > 10 and 0 < im["ssim"] <= 1
        got = load_rgb(Path(im["file"]))
        ref = load_rgb(originals[im["image_id"]])
        assert im["psnr_db"] == pytest.approx(psnr(ref, got), abs=1e-3)


def test_lag_grows_for_a_stage_that_falls_behind_and_not_for_one_that_keeps_up():
    rate = 1e6
    tx = {i: {"sample_end": (i + 1) * 100_000, "sample_last_frame": (i + 1) * 100_000 - 9000,
              "t_last_sample": 1000.0 + (i + 1) * 0.1} for i in range(4)}
    # the channel keeps up (a constant 5 ms behind the TX); the RX PHY takes 0.12 s per
    # 0.1 s of air (falls 20 ms further behind per image); the decoder 30 ms after the PHY
    truth = [{"image_id": i, "frame_idx": 3, "t": 1000.0 + (i + 1) * 0.1 - 0.009 + 0.005}
             for i in range(4)]
    frames = [{"image_id": i, "t": 1000.0 + (i + 1) * 0.12} for i in range(4)]
    images = [{"image_id": i, "_t_disk": 1000.0 + (i + 1) * 0.12 + 0.03} for i in range(4)]
    lag = realtime_lag(images, tx, truth, frames, rate)
    per = lag["per_image"]
    assert [r["tx_ms"] for r in per] == pytest.approx([0, 0, 0, 0], abs=1e-6)
    assert [r["channel_ms"] for r in per] == pytest.approx([0, 0, 0, 0], abs=1e-6)
    assert [r["rx_phy_ms"] for r in per] == pytest.approx([0, 20, 40, 60], abs=0.1)
    assert [r["decoder_ms"] for r in per] == pytest.approx([0, 20, 40, 60], abs=0.1)
    assert lag["growth_ms"] == pytest.approx({"tx": 0, "channel": 0, "rx_phy": 60,
                                              "decoder": 60}, abs=0.1)
    assert lag["added_max_ms"]["rx_phy"] == pytest.approx(60, abs=0.1)
    assert lag["added_max_ms"]["decoder"] == pytest.approx(0, abs=0.1)
