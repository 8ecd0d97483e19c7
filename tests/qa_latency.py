"""Per-image latency (issue 13): the TX log's first/last sample times, summary.json's latency
from the first TX sample to the PNG on disk, and the decoder thread's bounded queue.

No timing assertions: the fields exist, are finite and are ordered as time orders them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import phy_helpers as ph
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def loopback_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("lat")
    model = ph.tiny_checkpoint(d / "model.pt")
    images = ph.test_images(d / "imgs", n=3, size=(64, 96))
    out = d / "lb"
    p = subprocess.run([sys.executable, "-m", "semcom", "loopback", "--images", str(images),
                        "--model", str(model), "--snr", "20", "--seed", "1", "--out", str(out),
                        "--frame-symbols", "480"],
                       capture_output=True, text=True, timeout=240, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    return out


def test_tx_log_has_each_images_sample_times_in_order(loopback_run):
    recs = [json.loads(x) for x in (loopback_run / "tx.jsonl").read_text().splitlines()]
    imgs = [r for r in recs if "image_id" in r]
    assert len(imgs) == 3
    prev_end = 0
    for r in imgs:
        assert r["t_encode_start"] <= r["t_first_sample"] <= r["t_last_sample"]
        assert prev_end <= r["sample_first"] <= r["sample_last_frame"] < r["sample_end"]
        prev_end = r["sample_end"]
    total = next(r["samples"] for r in recs if "samples" in r)
    assert prev_end <= total                   # the last image's end, then guards only


def test_summary_latency_runs_from_first_sample_to_png_on_disk(loopback_run):
    s = json.loads((loopback_run / "summary.json").read_text())
    tx = {r["image_id"]: r for r in map(json.loads, (loopback_run / "tx.jsonl").read_text()
                                        .splitlines()) if "image_id" in r}
    assert len(s["images"]) == 3
    for im in s["images"]:
        assert not im["lost"]
        for k in ("latency_ms", "latency_last_ms", "latency_encode_ms", "decoded_to_disk_ms"):
            assert math.isfinite(im[k]) and im[k] >= 0, (k, im[k])
        # first sample before last sample before the PNG; the encoder starts before both
        assert im["latency_encode_ms"] >= im["latency_ms"] >= im["latency_last_ms"]
        # the PNG on disk (its mtime) is after the TX handed the image's first sample over
        assert os.stat(im["file"]).st_mtime >= tx[im["image_id"]]["t_first_sample"] - 0.01
    med = s["latency_median_ms"]
    assert med["latency_ms"] == pytest.approx(np.median([im["latency_ms"]
                                                         for im in s["images"]]))


class _Frame:
    def __init__(self, image_id):
        from semcom.header import Header
        self.header = Header(model_id=0, image_id=image_id, seq=image_id, frame_idx=0,
                             frame_count=1, keep=32, channels=32, lat_h=2, lat_w=2,
                             img_h=16, img_w=16, payload_len=128, session=3)
        self.symbols = np.ones(128, np.complex64)
        self.noise_var = np.full(128, 0.1, np.float32)
        self.snr_db = 10.0


def test_full_decoder_queue_loses_the_image_counted_never_silently(tmp_path, monkeypatch):
    from sdr_rx.jscc_decoder import jscc_decoder

    dec = jscc_decoder(str(ph.tiny_checkpoint(tmp_path / "a.pt")), queue_images=1,
                       out_dir=str(tmp_path / "out"))
    gate, entered = threading.Event(), threading.Event()
    real = dec.codec.decode

    def slow(*a, **k):
        entered.set()
        assert gate.wait(30)
        return real(*a, **k)
    monkeypatch.setattr(dec.codec, "decode", slow)
    dec.add_frame(_Frame(0))             # taken by the decoder thread, which then waits
    assert entered.wait(30)
    dec.add_frame(_Frame(1))             # waits in the queue (size 1)
    dec.add_frame(_Frame(2))             # queue full: lost, counted, published
    lost = [r for r in dec.results if r.get("lost")]
    assert [(r["image_id"], r["cause"]) for r in lost] == [(2, "decoder_backlog")]
    assert dec.log.summary()["images_lost_decoder_backlog"] == 1
    gate.set()
    dec.flush()                          # waits for the queue to drain
    done = {r["image_id"]: r for r in dec.results if not r.get("lost")}
    assert sorted(done) == [0, 1]
    assert all(r["queue_ms"] >= 0 and r["queue_depth"] >= 0 for r in done.values())
    assert done[1]["queue_ms"] > 0       # it waited for image 0's decode
    assert all(Path(r["file"]).is_file() and r["t_written"] >= r["t_decoded"]
               for r in done.values())
    assert dec.max_queue_depth == 1
    dec.stop()


def test_interrupt_publishes_queued_images_lost_without_decoding_them(tmp_path, monkeypatch):
    from sdr_rx.jscc_decoder import jscc_decoder

    dec = jscc_decoder(str(ph.tiny_checkpoint(tmp_path / "a.pt")), queue_images=4)
    gate, entered = threading.Event(), threading.Event()
    real = dec.codec.decode

    def slow(*a, **k):
        entered.set()
        assert gate.wait(30)
        return real(*a, **k)
    monkeypatch.setattr(dec.codec, "decode", slow)
    for i in range(3):
        dec.add_frame(_Frame(i))
        if i == 0:
            assert entered.wait(30)      # image 0 in the decoder, 1 and 2 queued
    dec.interrupt()
    gate.set()
    dec.flush()
    by = {r["image_id"]: r for r in dec.results}
    assert not by[0].get("lost")
    assert [by[i]["cause"] for i in (1, 2)] == ["interrupted", "interrupted"]
    assert dec.log.summary()["images_lost_interrupted"] == 2
