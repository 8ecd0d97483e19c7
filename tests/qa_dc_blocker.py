"""The RX graph's DC blocker (sdr_rx.dc_blocker, a ``dc_block`` graph parameter): a DC offset
stronger than the noise made the detector trigger constantly (a constant is perfectly
periodic: the STF metric reads it as a preamble); with the blocker before the detector the
triggers stay at the noise's rate and every frame decodes."""

from __future__ import annotations

import numpy as np
import phy_helpers as ph
import pytest
from gnuradio import blocks, gr

from flowgraphs.semcom_rx import semcom_rx
from sdr_rx.dc_blocker import DEFAULT_LENGTH, block_dc, dc_blocker
from semcom import numerology as nm

SNR_DB = 3.0
LEAD_S = 0.5            # noise (and DC) alone before the first burst


@pytest.fixture(scope="module")
def dc_stream(tmp_path_factory):
    """TX bursts through AWGN at 3 dB, after 0.5 s of noise alone, plus a DC offset with
    4 times the noise's power, as a cf32 file. -> (path, frames sent, images, model)."""
    d = tmp_path_factory.mktemp("dc")
    model = ph.tiny_checkpoint(d / "model.pt")
    images = ph.test_images(d / "imgs", n=2, size=(64, 96))
    x = ph.tx_samples(lambda tb, timeout: tb.run(), images, model)
    n_frames = len(ph.burst_starts(x))
    y = ph.through_channel(lambda tb, timeout: tb.run(), x, SNR_DB, cfo_hz=20e3,
                           lead=int(LEAD_S * 1e6))
    sigma = nm.noise_voltage_for_snr(SNR_DB)
    dc = 2 * sigma * (1 + 1j) / np.sqrt(2)           # |dc|^2 = 4 sigma^2
    path = d / "dc.cf32"
    (y + np.complex64(dc)).astype(np.complex64).tofile(path)
    return path, n_frames, 2, model


def _receive(run_flowgraph, dc_stream, tmp_path, dc_block):
    path, _, _, model = dc_stream
    tb = semcom_rx(source_kind="file", source_address=str(path), model=str(model),
                   out_dir=str(tmp_path / f"out{dc_block}"), dc_block=dc_block, max_side=0)
    run_flowgraph(tb, timeout=120)
    for frame in tb.receiver.rx.drain():
        tb.decoder.add_frame(frame)
    tb.decoder.flush()
    c = tb.receiver.log.summary()
    images = [r for r in tb.decoder.results if not r.get("lost")]
    tb.decoder.stop()
    return c, images


def test_dc_offset_with_the_blocker_triggers_rarely_and_every_frame_decodes(
        run_flowgraph, dc_stream, tmp_path):
    _, n_frames, n_images, _ = dc_stream
    c, images = _receive(run_flowgraph, dc_stream, tmp_path, DEFAULT_LENGTH)
    assert c["frames_decoded"] == n_frames
    assert len(images) == n_images
    # noise alone: about 100 triggers per million samples go to the LTF check (sync_fail);
    # while the blocker settles (2.3 time constants) the DC still triggers (~18 per ms)
    settle_ms = 2.3 * DEFAULT_LENGTH / 1e3
    assert c["sync_fail"] < 300 * (LEAD_S + 0.1) + 25 * settle_ms, c


def test_dc_offset_without_the_blocker_triggers_constantly(run_flowgraph, dc_stream, tmp_path):
    c, _ = _receive(run_flowgraph, dc_stream, tmp_path, 0)
    # the metric sits near (4/5)^2 = 0.64 on DC alone: a trigger every few symbols
    assert c["sync_fail"] > 5000, c
    assert c["frames_decoded"] < dc_stream[1], c      # and frames are lost


def test_block_passes_frames_unchanged_within_the_channel_estimates_resolution():
    """The notch is fs / (2 pi length) wide: the used carriers (and a 20 kHz CFO's shift) lose
    less than 0.01 dB; a constant is gone (to 1/10) after 2.4 time constants."""
    n = 1 << 17
    k = np.arange(n)
    for f in (1 / 64 - 20e3 / 1e6, 1 / 64, 26 / 64):     # the carriers nearest DC, the edge
        x = np.exp(2j * np.pi * f * k).astype(np.complex64)
        y = block_dc(x)[8 * DEFAULT_LENGTH:]
        gain_db = 10 * np.log10(np.mean(np.abs(y) ** 2))
        assert abs(gain_db) < 0.01, (f, gain_db)
    dc = np.full(n, 1 + 1j, np.complex64)
    y = block_dc(dc)
    assert np.all(np.abs(y[int(2.4 * DEFAULT_LENGTH):]) < 0.1 * abs(1 + 1j))
    assert np.all(np.abs(y[6 * DEFAULT_LENGTH:]) < 1e-2 * abs(1 + 1j))


@pytest.mark.parametrize("length", [DEFAULT_LENGTH, 64, 0])
def test_gnuradio_block_matches_the_numpy_filter(length):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(20000) + 1j * rng.standard_normal(20000) + 3 - 2j).astype(
        np.complex64)
    tb = gr.top_block()
    src, snk = blocks.vector_source_c(x.tolist()), blocks.vector_sink_c()
    tb.connect(src, dc_blocker(length), snk)
    tb.run()
    y = np.asarray(snk.data(), np.complex64)
    assert len(y) == len(x)             # no delay, nothing held back
    np.testing.assert_allclose(y, block_dc(x, length), atol=2e-4)
    if length == 0:
        np.testing.assert_array_equal(y, x)


def test_negative_length_is_refused():
    with pytest.raises(ValueError, match="0 \\(off\\)"):
        dc_blocker(-1)


def test_semcom_rx_dc_block_option(dc_stream, tmp_path):
    # the command line's --dc-block reaches the graph (0: off, the DC then triggers the detector
    # all the time); a negative or fractional one is refused in one line before any work
    import json
    import subprocess
    import sys
    from pathlib import Path
    path, n_frames, _, model = dc_stream
    repo = Path(__file__).resolve().parents[1]

    def rx(*extra, out):
        return subprocess.run([sys.executable, "-m", "semcom", "rx", "--file", str(path),
                               "--model", str(model), "--out", str(out), "--max-side", "0",
                               *extra], capture_output=True, text=True, cwd=repo, timeout=180)
    counters = {}
    for value in ("8192", "0"):
        p = rx("--dc-block", value, out=tmp_path / f"o{value}")
        assert p.returncode in (0, 1), p.stderr
        counters[value] = json.loads((tmp_path / f"o{value}" / "summary.json").read_text())
    on, off = counters["8192"]["counters"], counters["0"]["counters"]
    assert on["frames_decoded"] == n_frames and off["sync_fail"] > 10 * on["sync_fail"]
    for bad in ("-1", "2.5"):
        p = rx("--dc-block", bad, out=tmp_path / "bad")
        assert p.returncode == 2 and "--dc-block" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
