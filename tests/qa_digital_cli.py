"""``--scheme digital`` end to end: ``semcom loopback`` runs the TX, the channel emulator and
the RX processes with the digital link (real ZMQ sockets, real flowgraphs); summary.json keeps
the JSCC keys and adds ``scheme`` and ``mcs``; a lost codeword loses its image, counted and
shown; wrong options are refused by name before any process starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def _semcom(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "semcom", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data

    d = tmp_path_factory.mktemp("photos")
    src = skimage.data.astronaut()
    for i in range(3):
        y, x = 60 * i, 100 * i
        Image.fromarray(np.ascontiguousarray(src[y:y + 128, x:x + 128])).save(d / f"p{i}.png")
    return d


def test_loopback_digital_auto_closes_the_loop(photos, tmp_path):
    out = tmp_path / "lb"
    p = _semcom("loopback", "--scheme", "digital", "--images", str(photos), "--snr", "15",
                "--out", str(out))
    assert p.returncode == 0, p.stderr[-2000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["scheme"] == "digital" and s["mcs"] == "auto"
    for k in ("frames_sent", "frames_received", "mean_psnr_db", "total_symbols"):
        assert k in s
    assert s["frames_received"] == s["frames_sent"] > 0
    ims = s["images"]
    assert len(ims) == 3 and not any(im["lost"] for im in ims)
    assert all(im["psnr_db"] > 25 for im in ims)
    # no report before the first image: the most robust MCS; then the reports' choice
    assert ims[0]["mcs"] == "bpsk-1/2" and {im["mcs"] for im in ims[1:]} == {"16qam-3/4"}
    rx = json.loads((out / "rx" / "summary.json").read_text())
    assert rx["scheme"] == "digital" and rx["model_id"] == "00e62aff"


def test_loopback_digital_fixed_mcs_below_threshold_loses_images_counted(photos, tmp_path):
    out = tmp_path / "lb"
    p = _semcom("loopback", "--scheme", "digital", "--mcs", "64qam-5/6", "--images",
                str(photos), "--snr", "8", "--out", str(out))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "LOST (codeword_crc)" in p.stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["scheme"] == "digital" and s["mcs"] == "64qam-5/6"
    assert [(im["mcs"], im["lost"], im["cause"]) for im in s["images"]] == \
        [("64qam-5/6", True, "codeword_crc")] * 3
    assert s["counters"]["images_lost_codeword_crc"] == 3
    assert s["frames_received"] == s["frames_sent"]        # the frames arrived, the code failed


@pytest.mark.parametrize("argv,msg", [
    (["--mcs", "qpsk-1/2"], "--mcs needs --scheme digital"),
    (["--scheme", "digital", "--mcs", "qam-9"], "unknown MCS 'qam-9'"),
    (["--scheme", "analog"], "invalid choice: 'analog'"),
])
@pytest.mark.parametrize("cmd", ["tx", "loopback"])
def test_wrong_scheme_or_mcs_refused_by_name(cmd, argv, msg, tmp_path):
    p = _semcom(cmd, *argv, timeout=60)
    assert p.returncode == 2 and msg in p.stderr


def test_loopback_digital_auto_on_multipath_backs_off_and_delivers(tmp_path):
    """``--mcs auto`` on the ``incp`` multipath profile at 19 dB: the AWGN thresholds pick
    64-QAM 5/6, which the frequency-selective channel loses (before the outer loop: 11 of 12
    images of this kind lost). The RX's image reports (``lost``) move the TX's OLLA offset: the
    MCS backs off after a loss, climbs back after decoded images, and most images arrive."""
    import skimage.data

    from semcom import mcs

    d = tmp_path / "photos"
    d.mkdir()
    for k, src in enumerate((skimage.data.astronaut(), skimage.data.chelsea(),
                             skimage.data.coffee())):
        for i in range(4):
            y, x = 40 * i, 60 * i
            Image.fromarray(np.ascontiguousarray(src[y:y + 128, x:x + 128])).save(
                d / f"p{4 * k + i:02d}.png")
    out = tmp_path / "lb"
    p = _semcom("loopback", "--scheme", "digital", "--multipath", "incp", "--snr", "19",
                "--images", str(d), "--out", str(out))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "OLLA offset +1.78 dB" in (out / "tx.out").read_text()     # +2 after the loss
    ims = json.loads((out / "summary.json").read_text())["images"]
    assert len(ims) == 12
    idx = [mcs.NAMES.index(im["mcs"]) for im in ims]
    lost = [bool(im["lost"]) for im in ims]
    assert sum(lost) <= 3, list(zip(idx, lost, strict=True))
    first = lost.index(True)            # the AWGN thresholds' choice fails first
    assert idx[first] == mcs.NAMES.index("64qam-5/6")
    assert idx[first + 1] < idx[first]                      # backed off at once
    assert max(idx[first + 2:]) > idx[first + 1]            # and crept back up
    assert all(im["psnr_db"] > 30 for im, bad in zip(ims, lost, strict=True) if not bad)
