"""The decoder's metrics (PSNR/SSIM against references) run in their own low-priority thread,
after the PNG is written: a slow metric never holds up the next image's decode, records keep
their order, and a stop publishes what still waits without metrics (issue 13)."""

from __future__ import annotations

import threading
import time

import numpy as np
import phy_helpers as ph
from PIL import Image


class _Frame:
    def __init__(self, image_id):
        from semcom.header import Header
        self.header = Header(model_id=0, image_id=image_id, seq=image_id, frame_idx=0,
                             frame_count=1, keep=32, channels=32, lat_h=2, lat_w=2,
                             img_h=16, img_w=16, payload_len=128, session=3)
        self.symbols = np.ones(128, np.complex64)
        self.noise_var = np.full(128, 0.1, np.float32)
        self.snr_db = 10.0


def _decoder(tmp_path, n, monkeypatch):
    """A decoder with n 16x16 references whose SSIM waits for ``gate``."""
    import models.metrics as mm
    from sdr_rx.jscc_decoder import jscc_decoder

    refs = tmp_path / "refs"
    refs.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), np.uint8)).save(refs / f"r{i}.png")
    dec = jscc_decoder(str(ph.tiny_checkpoint(tmp_path / "a.pt")), out_dir=str(tmp_path / "out"),
                       reference=str(refs), queue_images=8)
    gate, entered, threads = threading.Event(), threading.Event(), []
    real = mm.ssim

    def slow(a, b):
        threads.append(threading.current_thread().name)
        entered.set()
        assert gate.wait(30)
        return real(a, b)
    monkeypatch.setattr(mm, "ssim", slow)
    return dec, gate, entered, threads


def _pngs(tmp_path, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted((tmp_path / "out").glob("image_*.png"))
        if len(files) >= n:
            return files
        time.sleep(0.02)
    return sorted((tmp_path / "out").glob("image_*.png"))


def test_metrics_wait_without_holding_up_the_decoder_and_records_keep_their_order(
        tmp_path, monkeypatch):
    dec, gate, entered, threads = _decoder(tmp_path, 4, monkeypatch)
    for i in range(4):
        dec.add_frame(_Frame(i))
    assert entered.wait(30)             # image 0's SSIM is running, and waits
    # meanwhile the decoder went on: every image decoded and on disk
    assert len(_pngs(tmp_path, 4)) == 4
    assert dec.results == []            # a record is published with its metrics, not before
    gate.set()
    dec.flush()
    assert [r["image_id"] for r in dec.results] == [0, 1, 2, 3]
    assert all(0 < r["ssim"] <= 1 and np.isfinite(r["psnr_db"]) for r in dec.results)
    assert all(r["t_written"] >= r["t_decoded"] for r in dec.results)
    assert set(threads) == {"semcom-metrics"}    # never in the decoder's thread
    dec.stop()


def test_interrupt_publishes_images_waiting_for_metrics_without_them(tmp_path, monkeypatch):
    dec, gate, entered, _ = _decoder(tmp_path, 3, monkeypatch)
    for i in range(3):
        dec.add_frame(_Frame(i))
    assert entered.wait(30)
    assert len(_pngs(tmp_path, 3)) == 3
    dec.interrupt()
    gate.set()
    dec.flush()
    by = {r["image_id"]: r for r in dec.results}
    assert sorted(by) == [0, 1, 2] and not any(r.get("lost") for r in by.values())
    assert "ssim" in by[0]              # the one being measured finished
    assert not any("ssim" in by[i] or "psnr_db" in by[i] for i in (1, 2))
    dec.stop()


def test_without_references_records_are_published_at_once(tmp_path):
    from sdr_rx.jscc_decoder import jscc_decoder

    dec = jscc_decoder(str(ph.tiny_checkpoint(tmp_path / "a.pt")), queue_images=4)
    dec.add_frame(_Frame(0))
    assert dec.wait_idle(30)
    assert [r["image_id"] for r in dec.results] == [0] and "ssim" not in dec.results[0]
    assert dec._metrics_worker is None          # no metrics thread was needed
    dec.stop()
