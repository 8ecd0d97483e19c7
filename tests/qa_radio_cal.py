"""``semcom calibrate radio`` math on the channel emulator's output with a known carrier offset
and a known gain-to-SNR map (saturation included), stored per device serial."""

from __future__ import annotations

import json

import numpy as np
import pytest

from calibration import radio_cal


def test_gain_fit_drops_saturated_top_and_inverts():
    pts = [(g, 0.98 * g + 4.0) for g in (-30, -20, -10, 0)] + [(10, 12.0), (20, 9.0)]
    fit = radio_cal.gain_fit(pts)
    assert fit["saturated"] == [10.0, 20.0] and abs(fit["slope"] - 0.98) < 1e-6
    assert abs(radio_cal.gain_for_snr(fit, 4.0)) < 1e-6
    assert radio_cal.gain_for_snr(fit, 50) == 0.0          # capped at the linear top
    with pytest.raises(ValueError):
        radio_cal.gain_fit([(0, 1)])


def test_cfo_estimate_is_robust():
    rng = np.random.default_rng(0)
    frames = [{"event": "frame", "cfo_hz": 21000 + rng.normal(0, 50)} for _ in range(50)]
    frames += [{"event": "frame", "cfo_hz": -9e4}, {"event": "frame", "cfo_hz": float("nan")}]
    c = radio_cal.cfo_estimate(frames, 2.4e9)
    assert abs(c["cfo_hz"] - 21000) < 30 and 20 < c["cfo_std_hz"] < 100
    assert abs(c["cfo_ppm"] - 8.75) < 0.02 and c["frames"] == 51


def _emulated_frames(tmp_path, iq, name, **impairments):
    from channel import ChannelCore, Settings
    from semcom.cli import main
    core = ChannelCore(Settings(**impairments), seed=1)
    y = core.process(np.r_[iq, np.zeros(20000, np.complex64)]).astype(np.complex64)
    f = tmp_path / f"{name}.cf32"
    y.tofile(f)
    out = tmp_path / name
    assert main(["rx", "--file", str(f), "--out", str(out)]) == 0
    return out / "frames.jsonl"


def test_calibrate_radio_on_emulator_output(tmp_path, capsys):
    from PIL import Image

    from semcom.cli import main
    img = tmp_path / "img"
    img.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        img / "a.png")
    assert main(["tx", "--images", str(img), "--repeat", "3", "--file",
                 str(tmp_path / "tx.cf32")]) == 0
    iq = np.fromfile(tmp_path / "tx.cf32", np.complex64)
    # known CFO, and a "gain" g that gives SNR g + 6 dB, compressed (PA clip) at the top
    cfo_log = _emulated_frames(tmp_path, iq, "cfo", snr_db=20.0, cfo_hz=23_000.0)
    sweep = []
    for g in (0.0, 6.0, 12.0):
        sweep.append(f"{g}={_emulated_frames(tmp_path, iq, f'g{g:g}', snr_db=g + 6)}")
    sweep.append(f"18={_emulated_frames(tmp_path, iq, 'g18', snr_db=24.0, clip=0.3)}")
    capsys.readouterr()
    dev = tmp_path / "devices"
    assert main(["calibrate", "radio", "--serial", "1044730a1997000d00:x", "--freq", "2.45e9",
                 "--frames", str(cfo_log), "--sweep", ",".join(sweep), "--out", str(dev)]) == 0
    text = capsys.readouterr().out
    doc = radio_cal.load("1044730a1997000d00:x", dev)
    assert (dev / "1044730a1997000d00_x.json").exists() and "wrote" in text
    assert abs(doc["cfo"]["cfo_hz"] - 23_000) < 300 and doc["cfo"]["frames"] >= 6
    assert doc["freq_offset_hz"] == doc["cfo"]["cfo_hz"]
    fit = doc["gain_to_snr"]
    assert fit["saturated"] == [18.0], fit
    assert abs(fit["slope"] - 1.0) < 0.15 and abs(fit["intercept_db"] - 6.0) < 1.5, fit
    assert json.loads((dev / "1044730a1997000d00_x.json").read_text())["serial"] == \
        "1044730a1997000d00:x"


def test_doctor_shows_a_device_calibration(tmp_path, monkeypatch):
    from apps.doctor import with_calibration
    monkeypatch.setattr(radio_cal, "DEVICE_DIR", tmp_path)
    line = "usb:1.5.5 (Analog Devices Inc. PlutoSDR (ADALM-PLUTO)), serial=104473)"
    assert "not calibrated" in with_calibration(line)
    radio_cal.save("104473", "pluto", 2.45e9, {"cfo_hz": 21000.0}, {"slope": 1.0,
                                                                    "intercept_db": 5.0})
    assert with_calibration(line).endswith(
        "[calibrated: CFO +21000 Hz at 2450 MHz, SNR = 1.00 x gain +5.0 dB]")
    (tmp_path / "104473.json").write_text("{}")
    assert "calibration unreadable" in with_calibration(line)
    assert with_calibration("ip:pluto.local") == "ip:pluto.local"
