"""SigMF recording, replay and dataset export (issue 15): a recorded emulator loopback passes
``sigmf`` validation, carries one annotation per frame with the emulator's truth, replays to
the same frames.jsonl decisions and images, exports to a dataset that checks; a recorder killed
with SIGKILL leaves a valid recording; limits and a full disk stop the recording cleanly; a
non-empty or read-only target, a truncated data file and malformed metadata are one line and
exit 2. Real files, real processes, real ``sigmf`` validation."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from phy_helpers import test_images as make_images
from phy_helpers import tiny_checkpoint

from semcom.cli import main as semcom_main

REPO = Path(__file__).resolve().parents[1]
CLOCK_FIELDS = {"t", "t_decoded", "decode_ms", "file",     # the RX's clock and paths
                "t_written", "queue_ms", "queue_depth"}   # (decoder thread)


def _semcom(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "semcom", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))


def _sigmf_valid(meta: Path):
    """Load and validate with the sigmf library, warnings as errors (undeclared namespaces,
    data shorter than the annotations, partial samples)."""
    import sigmf

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = sigmf.sigmffile.fromfile(str(meta))
        rec.validate()
    return rec


def _decisions(path: Path) -> dict[str, list[dict]]:
    """frames.jsonl without the clock: each kind of event in its order (frame events come in
    sample order from the receiver, image events in image order from the decoder thread;
    how the two interleave depends on decode timing)."""
    out: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        out.setdefault(rec["event"], []).append(
            {k: v for k, v in rec.items() if k not in CLOCK_FIELDS})
    return out


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1, err[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One emulator loopback recorded with --record (tiny model, two images)."""
    d = tmp_path_factory.mktemp("sigmf")
    model = tiny_checkpoint(d / "model.pt")
    images = make_images(d / "imgs", n=2, size=(64, 96))
    p = _semcom("loopback", "--images", images, "--model", model, "--snr", "12",
                "--cfo-hz", "15000", "--seed", "3", "--frame-symbols", "480", "--keep", "16",
                "--out", d / "lb", "--record", d / "rec")
    assert p.returncode == 0, p.stderr[-3000:]
    return d, model


def test_loopback_recording_is_valid_sigmf_with_frames_and_truth(recorded):
    d, model = recorded
    s = json.loads((d / "lb" / "summary.json").read_text())
    assert s["frames_received"] == s["frames_sent"] == 8      # recording cost no frame
    rec = _sigmf_valid(d / "rec" / "rx.sigmf-meta")
    g = rec.get_global_info()
    assert g["core:datatype"] == "cf32_le" and g["core:sample_rate"] == 1e6
    assert {"name": "semcom", "version": "1.0.0", "optional": True} in g["core:extensions"]
    assert g["semcom:command"].split()[1:4] == ["-m", "semcom", "rx"]
    assert f"--record {d / 'rec'}" in g["semcom:command"]
    assert g["semcom:version"] and g["core:hw"].startswith("semcom channel emulator")
    assert g["semcom:channel"]["snr"] == 12.0 and g["semcom:channel"]["seed"] == 3
    assert g["core:sha512"] and rec.get_captures()[0]["core:frequency"] == 0.0
    anns = rec.get_annotations()
    assert len(anns) == 8 and all(a["core:label"] == "frame" for a in anns)
    assert all(a["semcom:header_status"] == "ok" and a["semcom:true_snr_db"] == 12.0
               for a in anns)
    assert all(abs(a["semcom:cfo_hz"] - 15000) < 200 for a in anns)
    assert sorted((a["semcom:image_id"], a["semcom:frame_idx"]) for a in anns) == \
        [(i, f) for i in range(2) for f in range(4)]
    # each annotation covers its burst: the signal is there, the gap before it is silent
    x = rec.read_samples()
    for a in anns[1:]:
        s0, n = a["core:sample_start"], a["core:sample_count"]
        burst, gap = x[s0 + 20:s0 + n - 20], x[s0 - 150:s0 - 30]
        assert np.mean(np.abs(burst) ** 2) > 10 * np.mean(np.abs(gap) ** 2)
    sent = [json.loads(x) for x in (d / "rec" / "tx" / "sent.jsonl").read_text().splitlines()]
    assert [r["image_id"] for r in sent] == [0, 1]
    assert {r["session"] for r in sent} == {anns[0]["semcom:session"]}


def test_replay_gives_the_same_decisions_and_images(recorded):
    d, model = recorded
    out = d / "replay"
    rc = semcom_main(["rx", "--replay", str(d / "rec"), "--model", str(model), "--out",
                      str(out), "--reference", str(d / "lb" / "originals"), "--max-side", "0"])
    assert rc == 0
    live = d / "lb" / "rx"
    replayed = _decisions(out / "frames.jsonl")
    assert replayed == _decisions(live / "frames.jsonl")
    assert len(replayed["frame"]) == 8 and len(replayed["image"]) == 2
    names = sorted(p.name for p in live.glob("image_*.png"))
    assert len(names) == 2 and names == sorted(p.name for p in out.glob("image_*.png"))
    for n in names:
        assert (out / n).read_bytes() == (live / n).read_bytes()


def test_replay_of_a_lossy_run_gives_the_same_decisions(recorded, tmp_path):
    """At -3 dB with a carrier offset: CRC failures, truncated frames, partial and lost
    images; the replay still decides every one of them alike."""
    d, model = recorded
    images = make_images(tmp_path / "imgs", n=3, size=(64, 96))
    p = _semcom("loopback", "--images", images, "--model", model, "--snr", "-3", "--cfo-hz",
                "20000", "--seed", "5", "--frame-symbols", "240", "--out", tmp_path / "lb",
                "--record", tmp_path / "rec")
    assert p.returncode == 0, p.stderr[-3000:]
    assert semcom_main(["rx", "--replay", str(tmp_path / "rec"), "--model", str(model),
                        "--out", str(tmp_path / "rp"), "--reference",
                        str(tmp_path / "lb" / "originals"), "--max-side", "0"]) == 0
    live = _decisions(tmp_path / "lb" / "rx" / "frames.jsonl")
    assert _decisions(tmp_path / "rp" / "frames.jsonl") == live
    assert live.get("crc_fail") and len(live["frame"]) < 39    # it was lossy (39 sent)
    labels = {a["core:label"] for a in _sigmf_valid(tmp_path / "rec" / "rx.sigmf-meta")
              .get_annotations()}
    assert {"frame", "crc_fail"} <= labels


def test_dataset_export_check_info_with_and_without_the_tx_record(recorded, capsys):
    d, _ = recorded
    ds = d / "ds"
    assert semcom_main(["dataset", "export", str(d / "rec" / "rx.sigmf-meta"), "--out",
                        str(ds)]) == 0
    rows = [json.loads(x) for x in (ds / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(r["tx_symbols"] and r["true_snr_db"] == 12.0 for r in rows)
    assert all(r["model_hash"] and r["recording"].endswith("rx.sigmf-meta") for r in rows)
    from semcom.dataset import MANIFEST_KEYS  # the format's declared keys, in order
    assert all(tuple(r) == MANIFEST_KEYS for r in rows)
    with np.load(ds / rows[0]["shard"]) as z:
        y, x, nv = z["rx_symbols"], z["tx_symbols"], z["noise_var"]
    assert y.shape == x.shape == nv.shape == (rows[0]["payload_len"],)
    measured = -10 * np.log10(np.mean(np.abs(y - x) ** 2))
    assert abs(measured - 12.0) < 2.0              # the received symbols are the sent ones
    # the spectra before equalisation, zero-forced with the channel estimate, are those
    # symbols too (the receiver also tracks pilot phases and removes the MMSE bias)
    from semcom import interleave
    from semcom import numerology as nm
    with np.load(ds / rows[0]["shard"]) as z:
        spec, chan = z["spectra"], z["channel"]
    n = rows[0]["payload_len"]
    assert spec.shape == (-(-n // 48), 52) and chan.shape == (52,)
    data = [nm.USED_CARRIERS.index(k) for k in nm.DATA_CARRIERS]
    zf = interleave.deinterleave((spec[:, data] / chan[data]).reshape(-1)[:n])
    assert abs(np.vdot(zf, y)) / np.linalg.norm(zf) / np.linalg.norm(y) > 0.9
    assert semcom_main(["dataset", "check", str(ds)]) == 0
    capsys.readouterr()
    assert semcom_main(["dataset", "info", str(ds)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 8 and info["with_tx_symbols"] == 8 and info["images"] == 2
    assert abs(info["measured_snr_db"]["mean"] - 12.0) < 2.0
    assert (ds / "info.png").stat().st_size > 5000
    # without the TX's record: transmitted symbols absent, and the check still passes
    bare = d / "bare"
    bare.mkdir()
    for f in ("rx.sigmf-meta", "rx.sigmf-data"):
        shutil.copy(d / "rec" / f, bare / f)
    assert semcom_main(["dataset", "export", str(bare), "--out", str(d / "ds2")]) == 0
    rows2 = [json.loads(x) for x in (d / "ds2" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows2) == 8 and not any(r["tx_symbols"] for r in rows2)
    assert all(r["tx_absent"] == "no TX record" for r in rows2)
    assert semcom_main(["dataset", "check", str(d / "ds2")]) == 0
    # a campaign: both recordings in one SigMF collection, exported together
    camp = d / "campaign.sigmf-collection"
    assert semcom_main(["dataset", "collect", str(d / "rec"), str(bare), "--out",
                        str(camp)]) == 0
    import sigmf
    assert len(sigmf.sigmffile.fromfile(str(camp))) == 2
    assert semcom_main(["dataset", "export", str(camp), "--out", str(d / "ds3")]) == 0
    rows3 = [json.loads(x) for x in (d / "ds3" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows3) == 16 and sum(r["tx_symbols"] for r in rows3) == 8
    assert semcom_main(["dataset", "check", str(d / "ds3")]) == 0
    capsys.readouterr()
    assert semcom_main(["rx", "--replay", str(camp), "--out", str(d / "o")]) == 2
    assert "2 recordings; name one" in _one_line(capsys.readouterr().err)
    # a damaged shard and a broken back-link are found
    shard = d / "ds2" / rows2[0]["shard"]
    shard.write_bytes(shard.read_bytes()[:-10])
    (bare / "rx.sigmf-data").unlink()
    capsys.readouterr()
    assert semcom_main(["dataset", "check", str(d / "ds2")]) == 1
    out = capsys.readouterr().out
    assert "sha256 differs" in out and "data file rx.sigmf-data is missing" in out


def test_sigkill_leaves_a_valid_recording(recorded, tmp_path):
    import zmq

    from apps.loopback import free_port

    d, model = recorded
    iq = np.fromfile(d / "rec" / "rx.sigmf-data", dtype=np.complex64)
    port = free_port()
    rec = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "semcom", "rx", "--iq-in",
                             f"tcp://127.0.0.1:{port}", "--model", str(model), "--out",
                             str(tmp_path / "rx"), "--record", str(rec)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        meta = rec / "rx.sigmf-meta"
        while time.monotonic() < deadline:
            sock.send(iq.tobytes())
            time.sleep(0.3)
            try:
                if len(json.loads(meta.read_text())["annotations"]) >= 16:
                    break
            except (OSError, ValueError):
                pass
        else:
            pytest.fail("no annotations written: " + proc.stderr.read1().decode()[-2000:])
        for _ in range(3):                      # killed while samples are still arriving
            sock.send(iq.tobytes())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        sock.close(0)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    r = _sigmf_valid(meta)
    assert len(r.get_annotations()) >= 16 and len(r.read_samples()) >= 2 * len(iq)
    assert (rec / "rx.sigmf-data").stat().st_size % 8 == 0
    from sdr_rx.recording import load
    assert load(meta).samples >= 2 * len(iq)
    # and the killed recording replays
    assert semcom_main(["rx", "--replay", str(meta), "--model", str(model), "--out",
                        str(tmp_path / "rp")]) == 0


def test_limits_and_a_full_disk_stop_the_recording_and_keep_it_valid(tmp_path, monkeypatch):
    from sdr_rx import sigmf_recorder as sr

    said = []
    (tmp_path / "lim").mkdir()
    r = sr.SigmfRecorder(tmp_path / "lim", samp_rate=1e6, max_bytes=8000, warn=said.append)
    for _ in range(5):
        r.write(np.ones(400, np.complex64))
    r.on_event("frame", {"timing": 300, "payload_len": 48, "snr_est_db": 9.0, "cfo_hz": 1.0,
                         "noise_var": 0.1, "image_id": 0, "frame_idx": 0, "flags": 0})
    r.close()
    assert r.samples == 1000 and "limit" in said[0]
    rec = _sigmf_valid(r.meta_path)
    assert len(rec.read_samples()) == 1000 and rec.get_annotations()[0]["semcom:cut"]
    # ENOSPC half-way through a sample: whole samples kept, one clear line, still valid
    (tmp_path / "full").mkdir()
    said.clear()
    r = sr.SigmfRecorder(tmp_path / "full", samp_rate=1e6, warn=said.append)
    real_write = os.write
    budget = [3 * 8 * 100 + 4]

    def write(fd, buf):
        if fd != r._fd:
            return real_write(fd, buf)
        if budget[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(buf), budget[0])
        budget[0] -= n
        return real_write(fd, bytes(buf[:n]))
    monkeypatch.setattr(sr.os, "write", write)
    for _ in range(5):
        r.write(np.full(100, 0.5, np.complex64))
    monkeypatch.undo()
    r.close()
    assert r.samples == 300 and len(said) == 1 and "disk full" in said[0]
    assert r.data_path.stat().st_size == 2400
    rec = _sigmf_valid(r.meta_path)
    assert "disk full" in rec.get_global_info()["semcom:stopped"]


def test_a_real_file_size_limit_stops_the_recording_and_the_rx_goes_on(recorded, tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse the data file's growth (EFBIG, as a full disk
    gives ENOSPC): one line, the recording keeps whole samples and validates, and the RX
    still decodes everything."""
    import resource

    d, model = recorded
    iq = np.fromfile(d / "rec" / "rx.sigmf-data", dtype=np.complex64)
    src = tmp_path / "in.cf32"
    np.tile(iq, 3).tofile(src)
    limit = 200_004                             # not a whole number of samples

    def cap():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    p = subprocess.run([sys.executable, "-m", "semcom", "rx", "--file", str(src), "--model",
                        str(model), "--out", str(tmp_path / "rx"), "--record",
                        str(tmp_path / "rec")], cwd=REPO, capture_output=True, text=True,
                       timeout=120, preexec_fn=cap, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stderr.count("recording stopped: file too large") == 1, p.stderr[-2000:]
    assert "24 frames decoded" in p.stdout
    data = tmp_path / "rec" / "rx.sigmf-data"
    assert data.stat().st_size == limit // 8 * 8
    rec = _sigmf_valid(tmp_path / "rec" / "rx.sigmf-meta")
    assert "file too large" in rec.get_global_info()["semcom:stopped"]
    assert all(a["core:sample_start"] + a["core:sample_count"] <= limit // 8
               for a in rec.get_annotations())


def test_record_and_replay_faults_are_one_line_and_exit_2(recorded, tmp_path, capsys):
    d, model = recorded
    m = ["--model", str(model), "--out", str(tmp_path / "o")]
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    good = d / "rec"

    def fails(args, *words):
        capsys.readouterr()
        assert semcom_main(args) == 2
        line = _one_line(capsys.readouterr().err)
        assert all(w in line for w in words), line
    fails(["rx", "--replay", str(good), "--record", str(busy), *m], "--record", "not empty",
          "--force")
    assert (busy / "keep.txt").read_text() == "mine"
    mine = tmp_path / "mine"
    shutil.copytree(good, mine)
    fails(["rx", "--replay", str(mine), "--record", str(mine), "--force", *m], "--record",
          "where the input")
    assert (mine / "rx.sigmf-data").stat().st_size == (good / "rx.sigmf-data").stat().st_size
    fails(["tx", "--record", str(busy), "--file", str(tmp_path / "t.cf32"), "--model",
           str(model)], "--record", "not empty")
    # a read-only target (root ignores permissions: a read-only file system then)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    target = ro / "rec" if os.geteuid() else Path("/sys/semcom-record-test")
    fails(["rx", "--replay", str(good), "--record", str(target), *m], "--record",
          "cannot write")
    ro.chmod(0o755)
    # truncated data file: half a sample, then whole samples short of the annotations
    for cut, word in ((4, "truncated"), (8 * 3000, "truncated")):
        bad = tmp_path / f"cut{cut}"
        shutil.copytree(good, bad, ignore=shutil.ignore_patterns("tx"))
        data = (bad / "rx.sigmf-data").read_bytes()
        (bad / "rx.sigmf-data").write_bytes(data[:-cut])
        fails(["rx", "--replay", str(bad), *m], "--replay", word)
        fails(["dataset", "export", str(bad), "--out", str(tmp_path / f"ds{cut}")], word)
    # malformed metadata: not JSON, JSON that fails SigMF validation, another datatype
    meta = json.loads((good / "rx.sigmf-meta").read_text())
    for name, text, word in (
            ("notjson", "{not json", "not JSON"),
            ("schema", json.dumps({**meta, "global": {**meta["global"],
                                                      "core:sample_rate": "fast"}}),
             "SigMF validation"),
            ("dtype", json.dumps({**meta, "global": {**meta["global"],
                                                     "core:datatype": "ci16_le"}}),
             "datatype")):
        bad = tmp_path / name
        bad.mkdir()
        shutil.copy(good / "rx.sigmf-data", bad / "rx.sigmf-data")
        (bad / "rx.sigmf-meta").write_text(text)
        fails(["rx", "--replay", str(bad / "rx.sigmf-meta"), *m], "--replay", word)
    fails(["rx", "--replay", str(tmp_path / "nothing"), *m], "no such file")
    fails(["dataset", "check", str(tmp_path / "nothing")], "no such folder")


def test_garbage_recordings_and_datasets_never_crash(recorded, tmp_path, capsys):
    """Untrusted input: metadata of every wrong shape is one line and exit 2; a manifest of
    garbage rows is reported row by row (exit 1) and summarised without a traceback."""
    d, model = recorded
    meta = json.loads((d / "rec" / "rx.sigmf-meta").read_text())
    data = (d / "rec" / "rx.sigmf-data").read_bytes()
    g = meta["global"]
    variants = [b"", b"\xff\xfe garbage", b"[]", b"null", b'{"global": []}'] + [
        json.dumps(m).encode() for m in (
            {**meta, "annotations": [{"core:sample_start": "x"}]},
            {**meta, "annotations": [1, 2]},
            {**meta, "captures": {"a": 1}},
            {**meta, "global": {**g, "core:sample_rate": -1}},
            {**meta, "global": {**g, "core:sha512": "0" * 128}},
            {**meta, "global": {**g, "core:dataset": "../../etc/passwd"}})]
    for i, text in enumerate(variants):
        bad = tmp_path / f"v{i}"
        bad.mkdir()
        (bad / "rx.sigmf-meta").write_bytes(text)
        (bad / "rx.sigmf-data").write_bytes(data)
        for args in (["rx", "--replay", str(bad), "--out", str(tmp_path / "o")],
                     ["dataset", "export", str(bad), "--out", str(tmp_path / f"ds{i}")]):
            capsys.readouterr()
            assert semcom_main(args) == 2, (i, args)
            _one_line(capsys.readouterr().err)
    ds = tmp_path / "garbage"
    (ds / "shards").mkdir(parents=True)
    rows = ["not json", "[1, 2]", json.dumps({"shard": "../../etc/passwd"}),
            json.dumps({"shard": "shards/x.npz", "payload_len": "many", "sample_start": 0,
                        "sample_count": 1, "tx_symbols": True, "recording": "r",
                        "sha256": "0"}),
            json.dumps({"shard": ["x"], "session": [1], "keep": {"a": 1}, "snr_est_db": "hi",
                        "true_snr_db": None, "tx_symbols": "yes", "side": []})]
    (ds / "manifest.jsonl").write_text("\n".join(rows) + "\n")
    capsys.readouterr()
    assert semcom_main(["dataset", "check", str(ds)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.err and out.out.count("dataset check: manifest line") >= 4
    assert semcom_main(["dataset", "info", str(ds), "--no-plot"]) == 0


def test_finetune_real_fits_a_receiver_adaptation_that_removes_iq_imbalance(recorded,
                                                                           tmp_path, capsys):
    """The recorded loopback with IQ imbalance added (3 dB, 15 deg): the adaptation
    fitted on image 0's frames cuts image 1's symbol error; the RX applies it with --adapt;
    an adaptation for another model, a damaged one and a dataset of another model than
    --init are one line and exit 2."""
    from sdr_rx.recording import load
    from sdr_rx.rx_adapt import RxAdaptation, dataset_pairs
    from sdr_rx.sigmf_recorder import SigmfRecorder

    d, model = recorded
    src = load(d / "rec" / "rx.sigmf-meta")
    # the loopback's 15 kHz carrier offset taken out first: after it, a receiver-side mirror
    # term would sit 2 x 15 kHz off its carrier and turn (no fixed correction can hold)
    x = src.read() * np.exp(-2j * np.pi * 15000 / 1e6 * np.arange(src.samples))
    g, ph = 10 ** (3 / 20), np.deg2rad(15)
    mu, nu = (1 + g * np.exp(-1j * ph)) / 2, (1 - g * np.exp(1j * ph)) / 2
    y = (mu * x + nu * np.conj(x)).astype(np.complex64)
    rec = tmp_path / "iq"
    rec.mkdir()
    r = SigmfRecorder(rec, samp_rate=1e6, hw="test: IQ imbalance added",
                      extra={"channel": {"tx_record": "tx"},
                             "model_hash": src.meta["global"]["semcom:model_hash"]})
    r.write(y)
    r.close()
    shutil.copytree(d / "rec" / "tx", rec / "tx")
    ds = tmp_path / "ds"
    assert semcom_main(["dataset", "export", str(rec), "--out", str(ds)]) == 0
    capsys.readouterr()
    assert semcom_main(["train", "--finetune-real", str(ds), "--finetune-images", "0",
                        "--out", str(tmp_path / "ft"), "--init", str(model)]) == 0
    assert "receiver adaptation" in capsys.readouterr().out
    ad = RxAdaptation.load(tmp_path / "ft" / "rx_adapt.json")
    card = (tmp_path / "ft" / "MODEL_CARD.md").read_text()
    assert ad.adapt_hash in card and ad.tx_model_hash in card
    held = list(dataset_pairs(ds, lambda row: row["image_id"] == 1))
    assert len(held) == 4
    before = np.mean([np.mean(np.abs(y - x) ** 2) for y, x, _, _ in held])
    after = np.mean([np.mean(np.abs(ad.apply(y, nv)[0] - x) ** 2) for y, x, nv, _ in held])
    assert 10 * np.log10(before / after) > 1.0, (before, after)     # noise floor: 2.6 dB
    out = tmp_path / "rx"
    assert semcom_main(["rx", "--replay", str(rec), "--model", str(model), "--out", str(out),
                        "--adapt", str(tmp_path / "ft" / "rx_adapt.json")]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["adaptation"]["adapt_hash"] == ad.adapt_hash
    assert s["counters"]["frames_decoded"] == 8
    # refusals
    other = tiny_checkpoint(tmp_path / "other.pt", seed=1)
    m = ["--out", str(tmp_path / "o")]
    for args, word in (
            (["rx", "--replay", str(rec), "--model", str(other), "--adapt",
              str(tmp_path / "ft" / "rx_adapt.json"), *m], "made for model"),
            (["train", "--finetune-real", str(ds), "--init", str(other), "--out",
              str(tmp_path / "ft2")], "--init"),):
        capsys.readouterr()
        assert semcom_main(args) == 2
        assert word in _one_line(capsys.readouterr().err)
    bad = tmp_path / "bad.json"
    doc = json.loads((tmp_path / "ft" / "rx_adapt.json").read_text())
    doc["a"][0][0] += 1.0
    bad.write_text(json.dumps(doc))
    capsys.readouterr()
    assert semcom_main(["rx", "--replay", str(rec), "--model", str(model), "--adapt",
                        str(bad), *m]) == 2
    assert "adapt_hash does not match" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "ft2" / "rx_adapt.json").exists()
