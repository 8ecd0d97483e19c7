"""apps.loopback reads its children's results from their files (JSON lines with a schema),
never from their human-readable output."""

from __future__ import annotations

import json

from apps.loopback import JsonlTail
from apps.rx import image_line


def test_tail_returns_each_complete_object_line_once(tmp_path):
    path = tmp_path / "frames.jsonl"
    tail = JsonlTail(path)
    assert tail.read() == []                       # not there yet
    with open(path, "a") as f:
        f.write(json.dumps({"event": "frame", "image_id": 0}) + "\n")
        f.write('{"event": "image", "image_')          # the writer is mid-line
        f.flush()
        assert tail.read() == [{"event": "frame", "image_id": 0}]
        f.write('id": 0}\nnot json\n[1, 2]\n')
        f.flush()
        assert tail.read() == [{"event": "image", "image_id": 0}]
    assert tail.read() == []


def test_image_line_shows_a_record_and_a_lost_one_without_snr():
    rec = {"image_id": 3, "keep": 12, "symbols": 4096, "frames_received": 4, "frame_count": 4,
           "est_snr_db": 14.25, "partial": False, "psnr_db": 31.5, "ssim": 0.912}
    line = image_line(rec)
    assert line.startswith("image     3  keep  12") and "est SNR  14.25 dB" in line
    assert "PSNR  31.50 dB SSIM 0.912" in line
    lost = dict(rec, est_snr_db=None, lost=True, cause="not_received", partial=True)
    del lost["psnr_db"]
    assert "LOST (not_received)" in image_line(lost) and "no reference" in image_line(lost)
