"""Radio front ends without a radio (issue 14): option checks, Pluto buffer padding, USRP burst
tags and async counts, the real gr-iio/gr-uhd blocks' no-device errors, and the radio TX
flowgraphs driven end to end with a fake only at the device block. With ``--hardware pluto``
or ``--hardware usrp`` and a radio on a cable: a real loopback of a few images."""

from __future__ import annotations

import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from sdr_tx.radio_burst import BufferPadder, classify_uhd_async, pluto_burst_pad
from semcom import numerology as nm

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


def _semcom(*args, timeout=60):
    return subprocess.run([PY, "-m", "semcom", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# -- padding rule ---------------------------------------------------------------------------

def _bursts(rng, n, guard):
    """A tx_level-like stream: n bursts of random length, each followed by guard zeros."""
    parts, eobs, pos = [], [], 0
    for _ in range(n):
        L = int(rng.integers(1, 30000))
        parts.append((rng.standard_normal(L) + 1j).astype(np.complex64))
        parts.append(np.zeros(guard, np.complex64))
        eobs.append(pos + L - 1)
        pos += L + guard
    return np.concatenate(parts), np.array(eobs)


def test_buffer_padder_whole_buffers_in_any_chunking():
    rng = np.random.default_rng(1)
    B, guard = 8192, 400
    x, eobs = _bursts(rng, 40, guard)
    whole = BufferPadder(B, guard).pad(x, eobs)
    assert len(whole) % B == guard                   # whole buffers, then the last guard
    # the stream without the inserted zeros is the input, sample for sample
    cuts = np.sort(rng.choice(np.arange(1, len(x)), 25, replace=False))
    p, parts = BufferPadder(B, guard), []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(x)], strict=True):
        sel = eobs[(eobs >= a) & (eobs < b)] - a
        parts.append(p.pad(x[a:b], sel))
    assert np.array_equal(np.concatenate(parts), whole)
    assert p.padded == len(whole) - len(x) and p.bursts == 40
    nz = np.flatnonzero(whole)
    assert np.array_equal(whole[nz], x[np.flatnonzero(x)])
    # each burst's buffer is completed by zeros; the next burst starts its guard later
    starts = np.flatnonzero((whole != 0) & (np.r_[0, whole[:-1]] == 0))
    assert len(starts) == 40 and np.all(starts[1:] % B == guard)
    with pytest.raises(ValueError):
        BufferPadder(0, 0)
    from semcom.radio import tx_buffer
    burst = nm.burst_samples(nm.DEFAULT_FRAME_SYMBOLS) + nm.DEFAULT_GUARD
    # the --buffer-size 0 default: the smallest whole number of 1024-sample blocks
    assert tx_buffer(burst) % 1024 == 0 and burst <= tx_buffer(burst) < burst + 1024
    assert tx_buffer(1) == 1024 and tx_buffer(1024) == 1024 and tx_buffer(1025) == 2048


def test_pluto_burst_pad_block_moves_tags_with_samples():
    rng = np.random.default_rng(2)
    B, guard = 4096, 100
    x, eobs = _bursts(rng, 12, guard)
    sobs = np.r_[0, eobs[:-1] + 1 + guard]
    tags = [gr.tag_utils.python_to_tag((int(o), pmt.intern(k), pmt.PMT_T, pmt.PMT_F))
            for k, offs in (("tx_sob", sobs), ("tx_eob", eobs)) for o in offs]
    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False, 1, tags)
    pad = pluto_burst_pad(B, guard)
    snk = blocks.vector_sink_c()
    tb.connect(src, pad, snk)
    tb.run()
    y = np.array(snk.data(), np.complex64)
    assert np.array_equal(y, BufferPadder(B, guard).pad(x, eobs))
    got = {(t.offset, pmt.symbol_to_string(t.key)) for t in snk.tags()}
    sob_out = sorted(o for o, k in got if k == "tx_sob")
    eob_out = sorted(o for o, k in got if k == "tx_eob")
    assert all((o - guard) % B == 0 for o in sob_out[1:])
    lengths = [e - s for s, e in zip(sobs, eobs, strict=True)]
    assert [e - s for s, e in zip(sob_out, eob_out, strict=True)] == lengths


def test_usrp_burst_guard_closes_every_burst_even_a_cut_last_guard():
    from sdr_tx.radio_burst import usrp_burst_guard
    rng = np.random.default_rng(3)
    guard = 300
    x, eobs = _bursts(rng, 10, guard)
    x = x[:-(guard - 7)]                                # the last guard cut short upstream
    sobs = np.r_[0, eobs[:-1] + 1 + guard]
    tags = [gr.tag_utils.python_to_tag((int(o), pmt.intern(k), pmt.PMT_T, pmt.PMT_F))
            for k, offs in (("tx_sob", sobs), ("tx_eob", eobs)) for o in offs]
    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False, 1, tags)
    blk = usrp_burst_guard(guard)
    snk = blocks.vector_sink_c()
    tb.connect(src, blk, snk)
    tb.run()
    y = np.array(snk.data(), np.complex64)
    got = sorted((t.offset, pmt.symbol_to_string(t.key)) for t in snk.tags())
    lengths = eobs - sobs + 1
    assert len(y) == lengths.sum() + 10 * guard
    out_sob = [o for o, k in got if k == "tx_sob"]
    out_eob = [o for o, k in got if k == "tx_eob"]
    assert out_sob == list(np.r_[0, np.cumsum(lengths + guard)[:-1]])
    assert out_eob == list(np.cumsum(lengths + guard) - 1)
    bursts = np.concatenate([x[s:e + 1] for s, e in zip(sobs, eobs, strict=True)])
    assert np.array_equal(y[np.flatnonzero(y)], bursts[np.flatnonzero(bursts)])


def _tx_time(value) -> float:
    """gr-uhd's tx_time: a tuple (uint64 whole seconds, double fraction)."""
    assert pmt.is_tuple(value) and pmt.length(value) == 2
    secs, frac = pmt.tuple_ref(value, 0), pmt.tuple_ref(value, 1)
    assert pmt.is_uint64(secs) and pmt.is_real(frac) and 0 <= pmt.to_double(frac) < 1
    return pmt.to_uint64(secs) + pmt.to_double(frac)


def test_usrp_burst_guard_timed_bursts_tag_tx_time_on_every_sob():
    import time as _time

    from sdr_tx.radio_burst import usrp_burst_guard
    rng = np.random.default_rng(5)
    guard, fs, ahead = 200, 1e6, 0.5
    x, eobs = _bursts(rng, 8, guard)
    sobs = np.r_[0, eobs[:-1] + 1 + guard]
    tags = [gr.tag_utils.python_to_tag((int(o), pmt.intern(k), pmt.PMT_T, pmt.PMT_F))
            for k, offs in (("tx_sob", sobs), ("tx_eob", eobs)) for o in offs]
    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False, 1, tags)
    blk = usrp_burst_guard(guard, fs, ahead)
    blk.time_zero = _time.monotonic()
    snk = blocks.vector_sink_c()
    tb.connect(src, blk, snk)
    t_start = _time.monotonic() - blk.time_zero
    tb.run()
    t_end = _time.monotonic() - blk.time_zero
    got = snk.tags()
    out_sob = sorted(t.offset for t in got if pmt.symbol_to_string(t.key) == "tx_sob")
    timed = sorted((t.offset, _tx_time(t.value)) for t in got
                   if pmt.symbol_to_string(t.key) == "tx_time")
    assert [o for o, _ in timed] == out_sob and len(out_sob) == 8 == blk.timed
    times = np.array([t for _, t in timed])
    # the first burst is due `ahead` after it was handed over; the rest follow back to back
    # (handed over faster than real time), never before the previous one has left
    assert t_start + ahead <= times[0] <= t_end + ahead
    lengths = eobs - sobs + 1 + guard
    np.testing.assert_allclose(np.diff(times), lengths[:-1] / fs, rtol=0, atol=1e-9)
    # untimed (the default): no tx_time at all
    tb2 = gr.top_block()
    src2, snk2 = blocks.vector_source_c(x.tolist(), False, 1, tags), blocks.vector_sink_c()
    untimed = usrp_burst_guard(guard)       # referenced while it runs (a Python block)
    tb2.connect(src2, untimed, snk2)
    tb2.run()
    assert not [t for t in snk2.tags() if pmt.symbol_to_string(t.key) == "tx_time"]


def test_uhd_async_classification():
    def d(code):
        return pmt.to_pmt({"channel": 0, "event_code": code})
    assert classify_uhd_async(d(0x8)) == "underflow"
    assert classify_uhd_async(d(0x10)) == "underflow"
    assert classify_uhd_async(d(0x1)) == "ack"
    assert classify_uhd_async(d(0x4)) == "error"
    assert classify_uhd_async(pmt.intern("garbage")) == "error"


# -- options ---------------------------------------------------------------------------------

@pytest.mark.parametrize("argv,msg", [
    (["tx", "--radio", "hackrf"], "--radio must be pluto[:URI] or usrp[:ARGS]"),
    (["tx", "--radio", "pluto:http://x"], "a Pluto URI is ip:HOST"),
    (["tx", "--radio", "pluto", "--tx-gain", "3"], "--tx-gain is for a USRP"),
    (["tx", "--radio", "usrp", "--tx-atten", "3"], "--tx-atten is for a PlutoSDR"),
    (["tx", "--tx-atten", "3"], "--tx-atten needs --radio"),
    (["tx", "--radio", "pluto", "--freq", "1e10"], "--freq must be a finite number"),
    (["tx", "--radio", "pluto", "--samp-rate", "1e3"], "--samp-rate must be"),
    (["tx", "--radio", "pluto", "--tx-atten", "-1"], "--tx-atten must be"),
    (["tx", "--radio", "pluto", "--buffer-size", "10"], "--buffer-size must be"),
    (["tx", "--radio", "pluto", "--file", "x.cf32"], "--radio and --file"),
    (["rx", "--radio", "pluto", "--agc", "fast", "--rx-gain", "20"], "--rx-gain applies"),
    (["rx", "--radio", "usrp", "--rx-gain", "nan"], "--rx-gain must be"),
    (["rx", "--agc", "slow"], "--agc needs --radio"),
    (["tx", "--radio", "pluto", "--tx-time-offset", "0.5"], "a PlutoSDR (stock firmware) has"),
    (["tx", "--tx-time-offset", "0.5"], "--tx-time-offset needs --radio"),
    (["tx", "--radio", "usrp", "--tx-time-offset", "-1"], "--tx-time-offset must be"),
    (["loopback", "--radio", "usrp", "--cfo-hz", "100"], "--cfo-hz is a channel-emulator"),
    (["loopback", "--rx-radio", "usrp"], "--rx-radio needs --radio"),
    (["loopback", "--radio", "pluto", "--rx-radio", "usrp"], "the same kind"),
    # the real gr-iio block, no device: refused before any process starts
    (["loopback", "--radio", "pluto"], "cannot open the PlutoSDR (the first one found): no device"),
])
def test_radio_options_refused_in_one_line(argv, msg, capsys, tmp_path, monkeypatch):
    from semcom.cli import main
    monkeypatch.chdir(tmp_path)
    rc = main(argv + (["--out", str(tmp_path / "out")] if argv[0] != "tx" else []))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and len(err.strip().splitlines()) == 1, err


# -- no device: the real gr-iio / gr-uhd blocks ---------------------------------------------

@pytest.mark.parametrize("cmd,radio,name", [
    ("tx", "pluto", "PlutoSDR"), ("rx", "pluto:ip:192.0.2.1", "PlutoSDR"),
    ("tx", "usrp", "USRP"), ("rx", "usrp:type=b200", "USRP")])
def test_no_device_is_one_line_exit_2_within_15_s(cmd, radio, name, tmp_path):
    t0 = time.monotonic()
    extra = ["--out", str(tmp_path / "rx")] if cmd == "rx" else []
    p = _semcom(cmd, "--radio", radio, *extra, timeout=30)
    assert time.monotonic() - t0 < 15
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "no device found" in lines[0], p.stderr
    assert "Avahi" not in p.stderr and "[INFO]" not in p.stderr and p.stdout == ""


@pytest.mark.parametrize("radio,module", [("pluto", "gnuradio.iio"), ("usrp", "gnuradio.uhd")])
def test_missing_gnuradio_module_is_one_line(radio, module):
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from semcom.cli import main\n"
            f"sys.exit(main(['tx', '--radio', {radio!r}]))")
    p = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot load {module}" in lines[0], p.stderr


# -- the radio TX flowgraphs, faked only at the device block --------------------------------

class _FakeDevice(gr.sync_block):
    """Stands in for iio.fmcomms2_sink_fc32 / uhd.usrp_sink: keeps samples and tags, records
    the setter calls, and (USRP) reports one underflow on its async_msgs port."""

    def __init__(self, *args, **kw):
        gr.sync_block.__init__(self, "fake_device", [np.complex64], None)
        self.args, self.calls, self.chunks, self.tags = args, [], [], []
        self.values = []            # (offset, key, value) of every tag
        self.message_port_register_out(pmt.intern("async_msgs"))
        self.reported = False

    def work(self, input_items, output_items):
        x = input_items[0]
        start = self.nitems_read(0)
        self.chunks.append(x.copy())
        got = self.get_tags_in_range(0, start, start + len(x))
        self.tags += [(t.offset, pmt.symbol_to_string(t.key)) for t in got]
        self.values += [(t.offset, pmt.symbol_to_string(t.key), t.value) for t in got]
        if not self.reported:
            self.reported = True
            self.message_port_pub(pmt.intern("async_msgs"),
                                  pmt.to_pmt({"channel": 0, "event_code": 0x8}))
        return len(x)


def _recorder(name):
    def setter(self, *a):
        self.calls.append((name, a))
    return setter


for _name in ("set_len_tag_key", "set_bandwidth", "set_frequency", "set_samplerate",
              "set_attenuation", "set_filter_params", "set_samp_rate", "set_center_freq",
              "set_antenna", "set_gain", "set_time_now"):
    setattr(_FakeDevice, _name, _recorder(_name))


def _fake_radio_tx(monkeypatch, kind):
    made = []

    def make(*a, **kw):
        dev = _FakeDevice(*a, **kw)
        made.append(dev)
        return dev
    if kind == "pluto":
        import flowgraphs.semcom_tx_pluto as fg
        monkeypatch.setattr(fg, "iio", types.SimpleNamespace(
            fmcomms2_sink_fc32=make, get_pluto_uri=lambda: "usb:fake"))
    else:
        import flowgraphs.semcom_tx_usrp as fg
        monkeypatch.setattr(fg, "uhd", types.SimpleNamespace(
            usrp_sink=make, stream_args=lambda **kw: kw))
    return made


def _one_image(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(0)
    d = tmp_path / "img"
    d.mkdir()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(d / "a.png")
    return d


@pytest.mark.parametrize("kind", ["pluto", "usrp"])
def test_radio_tx_flowgraph_stream(kind, tmp_path, monkeypatch, capsys):
    from semcom.cli import main
    made = _fake_radio_tx(monkeypatch, kind)
    B, guard, rms = 4096, 400, 0.25
    opts = ["--tx-atten", "20", "--buffer-size", str(B)] if kind == "pluto" else \
        ["--tx-gain", "10"]
    rc = main(["tx", "--radio", kind, "--images", str(_one_image(tmp_path)), "--keep", "8",
               "--tx-rms", str(rms), "--guard", str(guard), "--freq", "915e6", *opts])
    out = capsys.readouterr().out
    assert rc == 0, out
    dev = made[0]
    y = np.concatenate(dev.chunks)
    calls = dict(dev.calls)
    sobs = sorted(o for o, k in dev.tags if k == "tx_sob")
    eobs = sorted(o for o, k in dev.tags if k == "tx_eob")
    n_frames = int(out.split(" frames,")[0].split()[-1])
    assert len(sobs) == len(eobs) == n_frames >= 2
    total = int(out.split(" samples")[0].split()[-1])      # the modulator's output
    burst_len = [e - s + 1 - (guard if kind == "usrp" else 0)
                 for s, e in zip(sobs, eobs, strict=True)]
    # every burst's guard is whole, the last one's included
    assert total == sum(burst_len) + n_frames * guard
    for s, n in zip(sobs, burst_len, strict=True):
        burst = y[s:s + n]
        assert abs(np.sqrt(np.mean(np.abs(burst) ** 2)) - rms) < 0.02 * rms
        assert np.abs(burst).max() <= 1.0            # x 32768 stays within int16 (gr-iio)
        assert np.abs(burst[:80]).min() >= 0 and np.any(burst[:80])
    if kind == "pluto":
        assert dev.args[0] == "usb:fake" and dev.args[2] == B and dev.args[3] is False
        assert calls["set_len_tag_key"] == ("",) and calls["set_attenuation"] == (0, 20.0)
        assert calls["set_frequency"] == (915_000_000,)
        assert calls["set_filter_params"][0] == "Auto"        # 1 MS/s needs the FIR
        # every burst ends a whole buffer: gr-iio, which drops a partial last buffer, loses
        # at most some of the zeros after the last one
        assert all((s - guard) % B == 0 for s in sobs[1:])
        assert -(-(eobs[-1] + 1) // B) * B <= len(y) <= -(-(eobs[-1] + 1) // B) * B + guard
        padded = len(y) - total
        assert 0 <= padded < n_frames * B and f"with {padded} zeros" in out
        # between bursts only zeros (guard + padding), and the guard is whole
        for e, s in zip(eobs, sobs[1:] + [len(y)], strict=True):
            assert not np.any(y[e + 1:s]) and (s == len(y) or s - e - 1 >= guard)
    else:
        assert calls["set_center_freq"] == (915e6, 0) and calls["set_gain"] == (10.0, 0)
        # bursts back to back, each with its whole guard inside (tx_eob on its last zero),
        # nothing outside a burst: no burst is left open
        assert sobs[0] == 0 and all(s == e + 1 for e, s in zip(eobs, sobs[1:], strict=False))
        assert eobs[-1] == len(y) - 1 and len(y) == sum(burst_len) + n_frames * guard
        assert all(not np.any(y[e - guard + 1:e + 1]) for e in eobs)
        assert "1 underflows" in out


def test_usrp_tx_time_offset_times_every_burst_of_the_tx_flowgraph(tmp_path, monkeypatch,
                                                                    capsys):
    from semcom.cli import main
    made = _fake_radio_tx(monkeypatch, "usrp")
    rc = main(["tx", "--radio", "usrp", "--images", str(_one_image(tmp_path)), "--keep", "8",
               "--tx-time-offset", "0.25"])
    out = capsys.readouterr().out
    assert rc == 0, out
    dev = made[0]
    (name, (spec,)), = [c for c in dev.calls if c[0] == "set_time_now"]
    assert spec.get_real_secs() == 0.0          # device time 0 when the graph was built
    sobs = sorted(o for o, k, _ in dev.values if k == "tx_sob")
    timed = sorted((o, _tx_time(v)) for o, k, v in dev.values if k == "tx_time")
    assert [o for o, _ in timed] == sobs and len(sobs) >= 2
    times = [t for _, t in timed]
    assert times[0] >= 0.25 and all(b > a for a, b in zip(times, times[1:], strict=False))
    assert f"{len(sobs)} bursts timed 0.25 s ahead" in out


class _FakeSource(gr.hier_block2):
    """Stands in for iio.fmcomms2_source_fc32 / uhd.usrp_source: plays IQ (and tags) once,
    records the setter calls."""
    iq = np.zeros(0, np.complex64)
    tags: list = []

    def __init__(self, *args, **kw):
        gr.hier_block2.__init__(self, "fake_source", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.args, self.calls = args, []
        self.src = blocks.vector_source_c(self.iq.tolist(), False, 1, self.tags)
        self.connect(self.src, self)

    def get_usrp_info(self, chan=0):
        return {"mboard_serial": "F00D", "mboard_id": "B210"}


for _name in ("set_len_tag_key", "set_frequency", "set_samplerate", "set_gain_mode",
              "set_gain", "set_quadrature", "set_rfdc", "set_bbdc", "set_filter_params",
              "set_samp_rate", "set_center_freq", "set_antenna", "set_bandwidth", "set_rx_agc"):
    setattr(_FakeSource, _name, _recorder(_name))


@pytest.mark.parametrize("kind", ["pluto", "usrp"])
def test_radio_rx_flowgraph_decodes_and_counts(kind, tmp_path, monkeypatch, capsys):
    import json

    from semcom.cli import main
    img = _one_image(tmp_path)
    assert main(["tx", "--images", str(img), "--keep", "8", "--file",
                 str(tmp_path / "tx.cf32")]) == 0
    iq = np.fromfile(tmp_path / "tx.cf32", np.complex64)
    iq = np.r_[np.zeros(3000, np.complex64), iq, np.zeros(3000, np.complex64)]
    made = []

    def make(*a, **kw):
        made.append(_FakeSource(*a, **kw))
        return made[-1]
    monkeypatch.setattr(_FakeSource, "iq", iq)
    if kind == "pluto":
        import flowgraphs.semcom_rx_pluto as fg
        monkeypatch.setattr(fg, "iio", types.SimpleNamespace(
            fmcomms2_source_fc32=make, get_pluto_uri=lambda: "usb:fake"))
        opts = ["--agc", "fast"]
    else:
        import flowgraphs.semcom_rx_usrp as fg
        # rx_time at the start, and again after an overflow that lost 500 samples
        def t(off, secs):
            return gr.tag_utils.python_to_tag((off, pmt.intern("rx_time"), pmt.make_tuple(
                pmt.from_uint64(int(secs)), pmt.from_double(secs % 1)), pmt.PMT_F))
        monkeypatch.setattr(_FakeSource, "tags", [t(0, 5.0), t(1000, 5.0 + 1500e-6)])
        monkeypatch.setattr(fg, "uhd", types.SimpleNamespace(
            usrp_source=make, stream_args=lambda **kw: kw))
        opts = ["--rx-gain", "20"]
        # a stored calibration for this serial: 10 ppm -> the RX is tuned +24 kHz at 2.4 GHz
        from calibration import radio_cal
        monkeypatch.setattr(radio_cal, "DEVICE_DIR", tmp_path / "devices")
        radio_cal.save("F00D", "usrp", 2.45e9, {"cfo_hz": 24500.0, "cfo_ppm": 10.0}, None)
    out = tmp_path / "rx"
    capsys.readouterr()
    rc = main(["rx", "--radio", kind, "--out", str(out), "--num-images", "1",
               "--reference", str(img), "--freq", "2.4e9", *opts])
    text = capsys.readouterr().out
    assert rc == 0, text
    calls = dict(made[0].calls)
    s = json.loads((out / "summary.json").read_text())
    im = s["images"][0]
    assert not im["partial"] and im["frames_received"] == im["frame_count"] >= 1
    assert im["psnr_db"] is not None
    assert s["radio"]["samples"] == len(iq) and s["radio"]["freq_hz"] == 2.4e9
    if kind == "pluto":
        assert calls["set_len_tag_key"] == ("",)           # no packet_len on every buffer
        assert calls["set_gain_mode"] == (0, "fast_attack")
        assert s["radio"]["serial"] is None                  # unreadable: nothing applied
        assert "short of the nominal rate" in text
    else:
        assert calls["set_gain"] == (20.0, 0) and "set_rx_agc" not in calls
        assert calls["set_center_freq"] == (2.4e9 + 24_000, 0)      # the last call wins
        assert s["radio"]["calibration"]["freq_offset_hz"] == 24_000.0
        assert "tuned +24000 Hz by the calibration of serial F00D" in text
        assert s["radio"]["overflows"] == 1 and s["radio"]["overflow_gap_samples"] == 500
        # per image: what the monitor had counted by then (it runs beside the receiver)
        assert im["radio"]["overflows"] in (0, 1) and "  overflows " in text
        assert "1 overflows" in text


# -- with a radio on a cable -----------------------------------------------------------------

def _loopback_hw(kind, tmp_path):
    """A real loopback of the held-out photos through a cable and >= 30 dB of attenuation
    (docs/ota.md); the radio from SEMCOM_PLUTO / SEMCOM_USRP (default: the first found)."""
    import json
    import os

    from semcom import radio
    spec = os.environ.get(f"SEMCOM_{kind.upper()}", kind)
    try:
        radio.probe(radio.parse(spec))
    except radio.RadioError as exc:
        pytest.skip(f"no {kind} attached: {exc}")
    p = _semcom("loopback", "--radio", spec, "--out", str(tmp_path / "lb"), timeout=600)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "lb" / "summary.json").read_text())
    assert s["frames_received"] >= 0.99 * s["frames_sent"] > 0
    assert all(im["psnr_db"] is not None and not im["lost"] for im in s["images"])


@pytest.mark.hardware("pluto")
def test_hardware_pluto_cable_loopback(tmp_path):
    _loopback_hw("pluto", tmp_path)


@pytest.mark.hardware("usrp")
def test_hardware_usrp_cable_loopback(tmp_path):
    _loopback_hw("usrp", tmp_path)
