"""JSCC models: shapes, power, pruning, checkpoints, channels, baselines, training, eval."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models import create
from models.baselines import best_fit, capacity_bits, encode, run_baseline
from models.channels import make_channel
from models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from models.codec import JSCCCodec
from semcom.snr import noise_var

ARCHS = ["afjscc", "deepjscc2019"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    import skimage.data
    return skimage.data.astronaut()[100:237, 50:251]  # 137 x 201: not a multiple of 8


@pytest.mark.parametrize("arch", ARCHS)
def test_ratio_and_symbol_count(arch):
    m = create(arch)
    assert m.ratio == pytest.approx(1 / 6)
    h, w = 256, 256
    z = m.encode(torch.rand(1, 3, h, w), 10.0)
    assert z.dtype == torch.complex64
    assert z.shape == (1, m.C, h // m.down, w // m.down)
    assert z[0].numel() == m.symbols_per_channel(h, w) * m.C == h * w * 3 // 6


@pytest.mark.parametrize("arch", ARCHS)
def test_unit_power_over_kept_symbols_and_zeros_beyond(arch):
    torch.manual_seed(0)
    m = create(arch)
    x = torch.rand(3, 3, 64, 64)
    keep = torch.tensor([1, m.C // 2, m.C])
    with torch.no_grad():
        z = m.encode(x, torch.tensor([0.0, 10.0, 20.0]), keep)
    for i, k in enumerate(keep.tolist()):
        kept = z[i, :k]
        assert (kept.abs() ** 2).mean().item() == pytest.approx(1.0, rel=1e-4)
        assert torch.count_nonzero(z[i, k:]) == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_decoder_ignores_symbols_beyond_keep(arch):
    torch.manual_seed(1)
    m = create(arch).eval()
    k = max(1, m.C // 4)
    y = torch.randn(1, m.C, 8, 8, dtype=torch.complex64)
    y2 = y.clone()
    y2[:, k:] = 100.0 * torch.randn_like(y2[:, k:])
    with torch.no_grad():
        a, b = m.decode(y, 10.0, k), m.decode(y2, 10.0, k)
    assert torch.equal(a, b)
    assert a.shape == (1, 3, 8 * m.down, 8 * m.down)


def test_keep_out_of_range_is_refused():
    m = create("afjscc")
    with pytest.raises(ValueError, match="keep must be in 1..32"):
        m.encode(torch.rand(1, 3, 32, 32), 10.0, 33)


def test_codec_any_size_and_symbol_count_scales_with_keep(photo):
    codec = JSCCCodec(create("afjscc"))
    h, w = photo.shape[:2]
    per = codec.model.symbols_per_channel(h, w)
    sizes = {}
    for keep in (4, 16, 32):
        z = codec.encode(photo, 10.0, keep)
        assert z.shape == (keep, *codec.latent_shape(h, w))
        sizes[keep] = z.size
        assert np.mean(np.abs(z) ** 2) == pytest.approx(1.0, rel=1e-4)
        out = codec.decode(z, (h, w), 10.0, keep)
        assert out.shape == photo.shape and out.dtype == np.uint8
    assert sizes == {4: 4 * per, 16: 16 * per, 32: 32 * per}


@pytest.mark.parametrize("name,expected", [("awgn", None), ("rayleigh", None), ("incp", None),
                                           ("long", None)])
def test_channels_follow_the_snr_convention(name, expected):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(64, 8, 16, 16, dtype=torch.complex64)
    x = x / torch.sqrt((x.abs() ** 2).mean())
    snr = torch.full((64,), 12.0)
    y, nv = make_channel(name, g)(x, snr)
    err = ((y - x).abs() ** 2).mean().item()
    # the reported per-symbol noise variance is the actual error variance after equalisation
    assert err == pytest.approx(nv.mean().item(), rel=0.05)
    if name == "awgn":
        assert err == pytest.approx(noise_var(12.0), rel=0.02)
        assert torch.allclose(nv, torch.full_like(nv, noise_var(12.0)))


def _tiny_model_file(tmp_path, arch="deepjscc2019") -> Path:
    torch.manual_seed(3)
    m = create(arch)
    path = tmp_path / f"{arch}.pt"
    save_checkpoint(m, path, {"data": "test"})
    return path


def test_checkpoint_round_trip(tmp_path, photo):
    path = _tiny_model_file(tmp_path, "afjscc")
    model, meta = load_checkpoint(path)
    assert meta["arch"] == "afjscc" and len(meta["model_hash"]) == 16
    assert meta["C"] == 32 and meta["ratio"] == pytest.approx(1 / 6)
    model2, meta2 = load_checkpoint(str(path), arch="afjscc")
    assert meta2["model_hash"] == meta["model_hash"]
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.encode(x, 5.0), model2.encode(x, 5.0))
    # re-saving the loaded weights (already fp16-exact) gives the same hash
    assert save_checkpoint(model, tmp_path / "again.pt") == meta["model_hash"]


def test_checkpoint_of_another_architecture_is_refused_by_name(tmp_path):
    path = _tiny_model_file(tmp_path, "deepjscc2019")
    with pytest.raises(CheckpointError, match="'deepjscc2019', not the requested 'afjscc'"):
        load_checkpoint(path, arch="afjscc")


def test_tampered_checkpoint_is_refused(tmp_path):
    path = _tiny_model_file(tmp_path)
    blob = torch.load(path, weights_only=True)
    name = next(iter(blob["state_dict"]))
    blob["state_dict"][name] = blob["state_dict"][name] + 0.01
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="tampered"):
        load_checkpoint(path)


def test_foreign_and_missing_files_are_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    torch.save({"weights": torch.zeros(3)}, junk)
    with pytest.raises(CheckpointError, match="not a semcom JSCC checkpoint"):
        load_checkpoint(junk)
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "text.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")


def test_capacity_budget_hand_computed():
    assert capacity_bits(1000, 0.0) == pytest.approx(1000.0)
    assert capacity_bits(1000, 10.0) == pytest.approx(1000 * math.log2(11))
    assert capacity_bits(10, 20.0) == pytest.approx(10 * math.log2(101))


def test_best_fit_picks_the_largest_quality_that_fits(photo):
    budget = 3000 * 8
    coded = best_fit(photo, "JPEG", budget)
    assert coded.delivered and coded.bits <= budget
    assert len(encode(photo, "JPEG", coded.quality)) * 8 == coded.bits
    assert len(encode(photo, "JPEG", coded.quality + 1)) * 8 > budget
    nothing = best_fit(photo, "JPEG", 100)  # 100 bits: no JPEG is that small
    assert not nothing.delivered and (nothing.image == 128).all()


def test_practical_links_have_thresholds(photo):
    n = photo.shape[0] * photo.shape[1] // 2
    lost = run_baseline("webp_qpsk_r12", photo, n, 3.0)
    ok = run_baseline("webp_qpsk_r12", photo, n, 3.5)
    assert not lost.delivered and ok.delivered and ok.bits <= n
    qam_lost = run_baseline("webp_16qam_r12", photo, n, 8.0)
    qam = run_baseline("webp_16qam_r12", photo, n, 9.0)
    assert not qam_lost.delivered and qam.delivered and n < qam.bits <= 2 * n
    # the same image at a bigger budget cannot be worse
    assert qam.quality >= ok.quality


def _image_folder(tmp_path, photo, n=3) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        y, x = rng.integers(0, 40, 2)
        Image.fromarray(np.ascontiguousarray(photo[y:y + 96, x:x + 128])).save(d / f"p{i}.png")
    return d


def _semcom(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "semcom", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=env)


def _log(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def test_training_lowers_the_loss_and_resumes(tmp_path, photo):
    data = _image_folder(tmp_path, photo, 4)
    out = tmp_path / "run"
    common = ["train", "--arch", "deepjscc2019", "--data", str(data), "--out", str(out),
              "--batch", "8", "--crop", "32", "--crop-late", "32", "--log-every", "20",
              "--val-every", "0", "--threads", "2", "--quiet", "--lr", "3e-3"]
    p = _semcom(*common, "--steps", "80", "--time-budget-min", "0")
    assert p.returncode == 0, p.stderr
    rows = _log(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [20, 40, 60, 80]
    assert float(rows[-1]["loss"]) < 0.7 * float(rows[0]["loss"])
    p = _semcom(*common, "--steps", "100", "--resume")
    assert p.returncode == 0, p.stderr
    assert "resumed" in p.stdout and "at step 80" in p.stdout
    assert [int(r["step"]) for r in _log(out / "log.csv")][-1] == 100
    model, meta = load_checkpoint(out / "model.pt", arch="deepjscc2019")
    assert meta["training"]["steps"] == 100


def test_time_budget_schedule_spans_the_time_and_resumes(tmp_path, photo):
    """--steps 0: training runs for the time budget (in all, across a resume) and the
    learning rate decays over that time rather than over a step count."""
    from models.train import lr_at

    assert lr_at(500, 0, 1e-3, frac=0.0) == pytest.approx(1e-3)
    assert lr_at(500, 0, 1e-3, frac=1.0) == pytest.approx(0.02e-3)
    assert lr_at(500, 0, 1e-3, frac=0.5) == pytest.approx(0.51e-3)
    data = _image_folder(tmp_path, photo, 3)
    out = tmp_path / "run"
    common = ["train", "--arch", "deepjscc2019", "--data", str(data), "--out", str(out),
              "--batch", "4", "--crop", "32", "--crop-late", "32", "--log-every", "1",
              "--val-every", "0", "--threads", "1", "--quiet", "--steps", "0",
              "--warmup", "0", "--lr", "1e-3"]
    p = _semcom(*common)
    assert p.returncode != 0 and "--time-budget-min" in p.stderr + p.stdout
    p = _semcom(*common, "--time-budget-min", "0.1")
    assert p.returncode == 0, p.stderr
    assert "time budget of 0.1 min reached" in p.stdout
    rows = _log(out / "log.csv")
    assert len(rows) >= 3
    assert 6.0 <= float(rows[-1]["elapsed_s"]) <= 9.0
    lrs = [float(r["lr"]) for r in rows]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] > 0.9e-3
    # half way through the budget the cosine is at about half the peak
    mid = min(rows, key=lambda r: abs(float(r["elapsed_s"]) - 3.0))
    assert float(mid["lr"]) == pytest.approx(lr_at(0, 0, 1e-3, warmup=0,
                                                   frac=float(mid["elapsed_s"]) / 6.0),
                                             rel=0.3)
    p = _semcom(*common, "--time-budget-min", "0.2", "--resume")
    assert p.returncode == 0, p.stderr
    rows2 = _log(out / "log.csv")
    assert int(rows2[-1]["step"]) > int(rows[-1]["step"])
    assert 12.0 <= float(rows2[-1]["elapsed_s"]) <= 15.0
    assert float(rows2[-1]["lr"]) < 0.1e-3           # at the end of the schedule
    meta = load_checkpoint(out / "model.pt", arch="deepjscc2019")[1]
    assert meta["training"]["recipe"]["schedule"] == "time"


def test_wallpaper_folder_from_the_environment(tmp_path):
    """SEMCOM_WALLPAPERS replaces /usr/share/wallpapers (a GPU machine carries a copy)."""
    folder = tmp_path / "wp" / "Grey" / "contents" / "images"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((40, 64, 3), 77, np.uint8)).save(folder / "1280x1024.png")
    code = ("from models.data import builtin_images\n"
            "ims = {i.name: i.array for i in builtin_images()}\n"
            "w = sorted(n for n in ims if n.startswith('wallpaper:'))\n"
            "print(w, int(ims['wallpaper:Grey'].mean()) if w else -1)")
    env = dict(os.environ, SEMCOM_WALLPAPERS=str(tmp_path / "wp"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "['wallpaper:Grey'] 77"


def test_model_card_history_continues_the_committed_log(tmp_path):
    from benchmarks.model_card import compute_text, merged_log

    prior = tmp_path / "prior.csv"
    prior.write_text("step,elapsed_s,val_psnr_full,run\n100,3600.0,25.0,main\n"
                     "200,7200.0,26.0,ft\n")
    run = tmp_path / "device"
    run.mkdir()
    (run / "log.csv").write_text("step,elapsed_s,val_psnr_full\n50,60.0,26.5\n100,120.0,27\n")
    log = merged_log([run], prior)
    assert [(int(r["step"]), float(r["elapsed_s"]), r["run"]) for r in log] == [
        (100, 3600.0, "main"), (200, 7200.0, "ft"), (250, 7260.0, "device"),
        (300, 7320.0, "device")]
    assert [r["device"] for r in log] == ["cpu", "cpu", "unknown", "unknown"]
    text = compute_text(log)
    assert text.startswith("2.00 hours on the CPU") and "2.0 minutes on unknown" in text


def test_model_card_keeps_the_ablations_a_new_benchmark_did_not_redo(tmp_path):
    from benchmarks.model_card import carry_ablations

    card = tmp_path / "MODEL_CARD.md"
    card.write_text("```\ntargets:\n  x\n\nequal-compute ablations (PSNR dB):\n"
                    "  main   afjscc  10 dB 23.89\n  other  x       10 dB 21.32\n\n"
                    "golden: {old}\n```\n")
    out = carry_ablations("targets:\n  y\n\ngolden: {new}\n", card)
    assert out.index("equal-compute ablations") < out.index("golden: {new}")
    assert "  main   afjscc  10 dB 23.89\n  other  x       10 dB 21.32\n" in out
    assert "{old}" not in out and "carried over" in out
    assert carry_ablations("targets\n", tmp_path / "missing.md") == "targets\n"


def test_model_card_covers_every_registered_model(tmp_path):
    """The card of any default: every registry architecture in the table, a curve from an eval
    JSON, a placeholder for a missing benchmark log, the history plotted from the committed
    training_log.csv alone (no --run, nothing rewritten)."""
    from benchmarks.model_card import main, split_ablations
    from models.checkpoint import peek
    from models.registry import available

    meta = peek("default")
    ev = tmp_path / "default.json"
    ev.write_text(json.dumps({
        "model": {k: meta[k] for k in ("arch", "model_hash", "config", "path")},
        "channel": "awgn", "seed": 0, "images": ["x"],
        "results": [{"method": "model", "snr_db": s, "keep": meta["C"],
                     "mean_psnr_db": 20 + s / 2, "mean_ssim": 0.5} for s in (0, 5, 10, 15, 20)]}))
    out = tmp_path / "card"
    assert main(["--bench-log", str(tmp_path / "none.txt"), "--curves", f"default={ev}",
                 "--out-dir", str(out)]) == 0
    text = (out / "MODEL_CARD.md").read_text()
    assert text.startswith(f"# Model card: `default` ({meta['arch']}, {meta['model_hash']})")
    for arch in available():
        assert f"| `{arch}`" in text
    assert "none.txt is missing" in text and "`python -m benchmarks.model`" in text
    assert "| 20.00 | 22.50 | 25.00 | 27.50 | 30.00 |" in text
    assert (out / "models.png").stat().st_size > 0
    assert (out / "training_curve.png").stat().st_size > 0
    assert not (out / "training_log.csv").exists()
    assert split_ablations("a\n\nequal-compute ablations (x):\n  r 1\n\ngolden: g\n") == (
        "a\n\ngolden: g\n", "equal-compute ablations (x):\n  r 1")

def test_device_training_script_runs_here_on_the_cpu(tmp_path):
    """scripts/device_train.sh is what a lent GPU machine runs; without a GPU it trains on the
    CPU, so its whole path (wallpaper copy, time budget, files for $OUT) is checked here."""
    import shutil

    if not Path("/usr/share/wallpapers/Grey").is_dir():
        pytest.skip("Debian wallpapers not installed")
    kit = tmp_path / "repo"
    shutil.copytree(REPO, kit, ignore=shutil.ignore_patterns(
        ".venv", ".git", "runs", "out", ".devkit", "__pycache__", "*.egg-info"))
    env = dict(os.environ, PY=sys.executable)
    p = subprocess.run(["bash", "scripts/devkit.sh"], cwd=kit, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "13 photos" in p.stdout
    env.update(OUT=str(tmp_path / "out"), RUN=str(tmp_path / "run"), MINUTES="0.05",
               BATCH="2", CROP="32", CROP_LATE="32", VAL_EVERY="0")
    p = subprocess.run(["bash", "scripts/device_train.sh", "--threads", "2"], cwd=kit, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "initialised from models/checkpoints/afjscc-default.pt" in p.stdout
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == [
        "log.csv", "model.pt", "train.out"]
    meta = load_checkpoint(tmp_path / "out" / "model.pt", arch="afjscc")[1]
    assert meta["training"]["recipe"]["schedule"] == "time"
    assert meta["training"]["init"] == "models/checkpoints/afjscc-default.pt"


def test_eval_writes_json_and_plot(tmp_path, photo):
    data = _image_folder(tmp_path, photo, 2)
    ckpt = _tiny_model_file(tmp_path, "afjscc")
    out = tmp_path / "ev" / "e.json"
    p = _semcom("eval", "--images", str(data), "--snr", "0,10", "--keep", "16,32",
                "--model", str(ckpt), "--out", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    res = doc["results"]
    methods = {r["method"] for r in res}
    assert methods == {"model", "jpeg_capacity", "webp_capacity", "webp_qpsk_r12",
                       "webp_16qam_r12"}
    assert {(r["snr_db"], r["keep"]) for r in res} == {(0.0, 16), (10.0, 16), (0.0, 32),
                                                       (10.0, 32)}
    for r in res:
        assert set(r) == {"method", "snr_db", "keep", "mean_psnr_db", "mean_ssim", "per_image"}
        assert len(r["per_image"]) == 2
        assert r["mean_psnr_db"] == pytest.approx(np.mean([x["psnr_db"] for x in r["per_image"]]))
    # capacity baselines get more bits at higher SNR, so they cannot get worse
    jp = {r["snr_db"]: r["mean_psnr_db"] for r in res
          if r["method"] == "jpeg_capacity" and r["keep"] == 32}
    assert jp[10.0] > jp[0.0]
    assert out.with_suffix(".png").stat().st_size > 10_000


def test_models_command_lists_architectures(tmp_path):
    ckpt = _tiny_model_file(tmp_path, "afjscc")
    p = _semcom("models", "--model", str(ckpt), "--size", "256x256")
    assert p.returncode == 0, p.stderr
    assert "afjscc" in p.stdout and "deepjscc2019" in p.stdout
    assert "1024 symbols/channel, 32768 at full keep" in p.stdout


@pytest.mark.slow
def test_ddp_training_with_torchrun(tmp_path, photo):
    data = _image_folder(tmp_path, photo, 4)
    out = tmp_path / "ddp"
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m",
                        "semcom.cli.train", "--arch", "deepjscc2019", "--data", str(data),
                        "--out", str(out), "--steps", "6", "--batch", "4", "--crop", "32",
                        "--crop-late", "32", "--log-every", "3", "--val-every", "0",
                        "--threads", "1", "--quiet"],
                       capture_output=True, text=True, timeout=240, cwd=REPO, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    _, meta = load_checkpoint(out / "model.pt")
    assert meta["training"]["world_size"] == 2 and meta["training"]["steps"] == 6
    # a time budget: the ranks agree on the clock, so they stop at the same step (a rank
    # that stopped alone would leave the other waiting in all_reduce until the timeout)
    out2 = tmp_path / "ddp_time"
    p = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m",
                        "semcom.cli.train", "--arch", "deepjscc2019", "--data", str(data),
                        "--out", str(out2), "--steps", "0", "--time-budget-min", "0.05",
                        "--batch", "4", "--crop", "32", "--crop-late", "32", "--log-every",
                        "5", "--val-every", "0", "--threads", "1", "--quiet"],
                       capture_output=True, text=True, timeout=240, cwd=REPO, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("time budget of 0.05 min reached") == 1      # rank 0 says it
    _, meta = load_checkpoint(out2 / "model.pt")
    assert meta["training"]["world_size"] == 2 and meta["training"]["steps"] > 5


def test_shipped_checkpoint_gives_its_golden_psnr():
    """The default checkpoint still gives the model card's PSNR on one held-out photo."""
    from models.checkpoint import CHECKPOINT_DIR
    from models.data import load_split
    from models.evaluate import model_roundtrip
    from models.metrics import psnr

    golden = json.loads((CHECKPOINT_DIR / "golden.json").read_text())
    codec = JSCCCodec.load("default")
    assert codec.model_hash == golden["model_hash"]
    im = next(i for i in load_split("heldout") if i.name == golden["image"])
    out, _ = model_roundtrip(codec, im.array, golden["snr_db"], golden["keep"], "awgn",
                             golden["seed"])
    assert psnr(im.array, out) == pytest.approx(golden["psnr_db"], abs=0.05)


def test_cli_finds_the_shipped_model_from_any_directory(tmp_path):
    p = subprocess.run([sys.executable, "-m", "semcom", "models"], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert p.returncode == 0, p.stderr
    assert "default" in p.stdout and "hash=" in p.stdout and "unavailable" not in p.stdout


def test_cifar_python_batches_are_read(tmp_path):
    import pickle

    from models.data import load_split

    rng = np.random.default_rng(0)
    written = {}
    for name, n in (("data_batch_1", 6), ("data_batch_2", 4), ("test_batch", 3)):
        written[name] = data = rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8)
        with open(tmp_path / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": [0] * n}, f)
    train = load_split("train", tmp_path)
    held = load_split("heldout", tmp_path)
    assert len(train) == 10 and len(held) == 3
    assert train[0].array.shape == (32, 32, 3) and train[0].array.dtype == np.uint8
    first = written["data_batch_1"][0]
    np.testing.assert_array_equal(train[0].array, first.reshape(3, 32, 32).transpose(1, 2, 0))


def test_data_folder_split_is_fixed_and_disjoint(tmp_path, photo):
    from models.data import load_split

    d = _image_folder(tmp_path, photo, n=3)
    for i in range(3, 30):
        Image.fromarray(photo[:40, :40]).save(d / f"q{i}.png")
    a = {im.name for im in load_split("train", d)}
    b = {im.name for im in load_split("heldout", d)}
    assert a and b and not (a & b) and len(a | b) == 30
    assert b == {im.name for im in load_split("heldout", d)}


def test_train_init_from_a_checkpoint(tmp_path, photo):
    data = _image_folder(tmp_path, photo, 2)
    start = _tiny_model_file(tmp_path, "deepjscc2019")
    common = ["train", "--arch", "deepjscc2019", "--data", str(data), "--batch", "4", "--crop",
              "32", "--crop-late", "32", "--val-every", "0", "--threads", "1", "--quiet",
              "--steps", "2", "--log-every", "1"]
    p = _semcom(*common, "--out", str(tmp_path / "a"), "--init", str(start))
    assert p.returncode == 0, p.stderr
    assert "initialised from" in p.stdout
    _, meta = load_checkpoint(tmp_path / "a" / "model.pt")
    assert meta["training"]["init"] == str(start)
    wrong = _tiny_model_file(tmp_path, "afjscc")
    p = _semcom(*common, "--out", str(tmp_path / "b"), "--init", str(wrong))
    assert p.returncode != 0 and "not the requested 'deepjscc2019'" in p.stderr
