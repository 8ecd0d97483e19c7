"""``semcom train``: train a JSCC model on random crops with mixed SNR and keep per batch.

Recipe (built for scarce compute): random crops of ``--crop`` pixels (default 64) for the first
``--crop-switch`` fraction of steps, then ``--crop-late`` (default 128); Adam with linear warm-up
and cosine decay; each image in a batch draws its own SNR (uniform over ``--snr-min..--snr-max``),
keep (full with probability ``--full-keep-prob``, else uniform over C/8..C) and channel
(``--channels awgn:0.8,rayleigh:0.1,incp:0.1``). Loss: MSE.

Writes to ``--out``: ``train_state.pt`` (resume with ``--resume``; weights_only loadable),
``model.pt`` (the export format of :mod:`models.checkpoint`), ``snapshots/step_N.pt`` at the
steps listed in ``--snapshot-steps``, and ``log.csv`` (step, time, lr, loss, train PSNR, and
held-out PSNR at 10 dB every ``--val-every`` steps). Runs on the GPU when present; with
``torchrun --nproc_per_node N`` it trains data-parallel (DDP, gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch

from models.channels import make_channel
from models.checkpoint import save_checkpoint
from models.data import CropSampler, load_split, to_tensor
from models.metrics import batch_psnr
from models.registry import create


def parse_mix(spec: str) -> list[tuple[str, float]]:
    out = []
    for part in spec.split(","):
        name, _, w = part.partition(":")
        out.append((name.strip(), float(w) if w else 1.0))
    total = sum(w for _, w in out)
    return [(n, w / total) for n, w in out]


def lr_at(step: int, total: int, base: float, warmup: int = 200, floor: float = 0.02,
          frac: float | None = None) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``floor * base`` over the
    rest of ``total`` steps, or over ``frac`` (0..1, the fraction of a time budget spent)."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = frac if frac is not None else (step - warmup) / max(1, total - warmup)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def heldout_tensors(data, size: int = 256) -> list[torch.Tensor]:
    """Centre crops of the held-out images, for the training-time validation curve."""
    out = []
    for im in load_split("heldout", data):
        t = to_tensor(im.array)
        h, w = t.shape[1:]
        s = min(size, h, w) // 8 * 8
        y, x = (h - s) // 2, (w - s) // 2
        out.append(t[:, y:y + s, x:x + s])
    return out


@torch.no_grad()
def validate(model, val: list[torch.Tensor], device, snr_db: float = 10.0) -> dict:
    model.eval()
    g = torch.Generator(device="cpu").manual_seed(1234)
    ch = make_channel("awgn", g)
    res = {}
    for name, keep in (("val_psnr_full", model.C), ("val_psnr_half", model.C // 2)):
        ps = []
        for t in val:
            x = t[None].to(device)
            snr = torch.full((1,), snr_db, device=device)
            k = torch.full((1,), keep, dtype=torch.long, device=device)
            z, side = model.encode_side(x, snr, k)
            y, nv = ch(z.cpu(), snr.cpu())
            out = model.decode(y.to(device), snr, k, nv.to(device), side)
            ps.append(float(batch_psnr(out, x)[0]))
        res[name] = float(np.mean(ps))
    model.train()
    return res


class Trainer:
    def __init__(self, args):
        self.args = args
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if args.threads:
            torch.set_num_threads(args.threads)
        if self.world > 1:
            import torch.distributed as dist
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
            local = int(os.environ.get("LOCAL_RANK", "0"))
            if torch.cuda.is_available():
                torch.cuda.set_device(local)
        want = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
                                   if want == "cuda" else want)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cudnn.benchmark = True
        if args.steps <= 0 and not args.time_budget_min:
            raise SystemExit("train: --steps 0 needs --time-budget-min (the schedule then "
                             "spans the time budget)")
        self.out = Path(args.out)
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(args.seed + self.rank)
        cfg = json.loads(args.config) if args.config else {}
        self.model = create(args.arch, **cfg).to(self.device)
        self.net = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.net = DDP(self.model, device_ids=[self.device.index]
                           if self.device.type == "cuda" else None)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        self.sampler = CropSampler(load_split("train", args.data),
                                   seed=args.seed + 1000 * self.rank, device=self.device)
        self.mix = parse_mix(args.channels)
        self.rng = np.random.default_rng(args.seed + 7 + self.rank)
        # channel noise is drawn where the latent lives (no round trip through the CPU)
        self.gen = torch.Generator(device=self.device).manual_seed(args.seed + 99 + self.rank)
        self.channels = {n: make_channel(n, self.gen) for n, _ in self.mix}
        self.step = 0
        self.elapsed = 0.0
        self.val = heldout_tensors(args.data) if (self.rank == 0 and args.val_every) else []
        if args.init and not (args.resume and self._state_path().exists()):
            from models.checkpoint import load_checkpoint
            init, meta = load_checkpoint(args.init, arch=args.arch)
            if init.config() != self.model.config():
                raise SystemExit(f"train: --init {args.init} has config {init.config()}, "
                                 f"not {self.model.config()}")
            self.model.load_state_dict(init.state_dict())
            print(f"train: initialised from {args.init} ({meta['model_hash']})")
        if args.resume:
            self._resume()

    # -- state ----------------------------------------------------------------------------
    def _state_path(self) -> Path:
        return self.out / "train_state.pt"

    def _resume(self):
        path = self._state_path()
        if not path.exists():
            print(f"train: no {path}, starting fresh")
            return
        st = torch.load(path, map_location=self.device, weights_only=True)
        if st["arch"] != self.args.arch:
            raise SystemExit(f"train: {path} holds architecture {st['arch']!r}, not "
                             f"{self.args.arch!r}")
        self.model.load_state_dict(st["model"])
        self.opt.load_state_dict(st["opt"])
        self.step, self.elapsed = int(st["step"]), float(st["elapsed"])
        self.sampler.set_state(st["sampler"])
        self.rng.bit_generator.state = st["rng"]
        try:
            self.gen.set_state(st["gen"])
        except (RuntimeError, ValueError):   # state saved on another kind of device
            print("train: channel-noise generator state is from another device; reseeded")
        print(f"train: resumed {path} at step {self.step} ({self.elapsed / 60:.1f} min)")

    def _training_meta(self) -> dict:
        a = self.args
        return {"data": a.data or "builtin", "steps": self.step, "batch": a.batch,
                "init": a.init or None,
                "world_size": self.world, "device": str(self.device),
                "device_name": (torch.cuda.get_device_name(self.device)
                                if self.device.type == "cuda" else "cpu"),
                "threads": torch.get_num_threads(), "wall_hours": self.elapsed / 3600,
                "snr": [a.snr_min, a.snr_max], "channels": a.channels, "seed": a.seed,
                "recipe": {"crop": a.crop, "crop_late": a.crop_late,
                           "crop_switch": a.crop_switch, "lr": a.lr,
                           "full_keep_prob": a.full_keep_prob, "fixed_snr": a.fixed_snr,
                           "warmup": a.warmup,
                           "schedule": "time" if a.steps <= 0 else "steps",
                           "time_budget_min": a.time_budget_min,
                           "fixed_keep": a.fixed_keep}}

    def save(self):
        if self.rank != 0:
            return
        st = {"arch": self.args.arch, "model": self.model.state_dict(),
              "opt": self.opt.state_dict(), "step": self.step, "elapsed": self.elapsed,
              "sampler": self.sampler.state(), "rng": self.rng.bit_generator.state,
              "gen": self.gen.get_state()}
        tmp = self._state_path().with_suffix(".tmp")
        torch.save(st, tmp)
        os.replace(tmp, self._state_path())
        save_checkpoint(self.model, self.out / "model.pt", self._training_meta())

    # -- one step -------------------------------------------------------------------------
    def _side(self, b):
        a, C = self.args, self.model.C
        if a.fixed_snr is not None:
            snr = np.full(b, a.fixed_snr)
        else:
            snr = self.rng.uniform(a.snr_min, a.snr_max, b)
        if a.fixed_keep is not None:
            keep = np.full(b, a.fixed_keep)
        else:
            keep = self.rng.integers(max(1, C // 8), C + 1, b)
            keep[self.rng.random(b) < a.full_keep_prob] = C
        return (torch.as_tensor(snr, dtype=torch.float32),
                torch.as_tensor(keep, dtype=torch.long))

    def train_step(self, crop: int) -> tuple[float, float]:
        a = self.args
        x = self.sampler.sample(a.batch, crop).to(self.device)
        snr, keep = self._side(a.batch)
        names = [n for n, _ in self.mix]
        which = self.rng.choice(len(names), size=a.batch, p=[w for _, w in self.mix])
        z, side = self.model.encode_side(x, snr.to(self.device), keep.to(self.device)) \
            if self.world == 1 else (None, None)
        if self.world > 1:
            # DDP needs the forward through the wrapper: encode+channel+decode in one call
            out = self.net(x, snr.to(self.device), keep.to(self.device),
                           channel=self._mixed_channel(which, names))
        else:
            y, nv = self._mixed_channel(which, names)(z, snr.to(self.device))
            out = self.model.decode(y, snr.to(self.device), keep.to(self.device), nv, side)
        loss = torch.mean((out - x) ** 2)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach()), float(batch_psnr(out.detach(), x).mean())

    def _mixed_channel(self, which, names):
        def channel(z, snr):
            y = torch.empty_like(z)
            nv = torch.empty(z.shape, device=z.device)
            for i, n in enumerate(names):
                sel = torch.as_tensor(np.flatnonzero(which == i), device=z.device)
                if len(sel):
                    y[sel], nv[sel] = self.channels[n](z[sel], snr[sel])
            return y, nv
        return channel

    def _agree(self, elapsed: float, stop: bool) -> tuple[float, bool]:
        """(largest elapsed time, any rank stopping) over data-parallel ranks."""
        if self.world == 1:
            return elapsed, stop
        import torch.distributed as dist
        t = torch.tensor([elapsed, float(stop)], dtype=torch.float64,
                         device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t[0]), bool(t[1])

    # -- loop -----------------------------------------------------------------------------
    def run(self):
        a = self.args
        from tqdm import tqdm

        stop = {"flag": False}

        def on_signal(signum, frame):
            stop["flag"] = True
        old = signal.signal(signal.SIGTERM, on_signal)
        log_path = self.out / "log.csv"
        new_log = self.rank == 0 and not log_path.exists()
        logf = open(log_path, "a", newline="") if self.rank == 0 else None
        fields = ["step", "elapsed_s", "lr", "crop", "loss", "train_psnr", "val_psnr_full",
                  "val_psnr_half"]
        writer = csv.DictWriter(logf, fieldnames=fields) if logf else None
        if new_log:
            writer.writeheader()
        snaps = {int(s) for s in a.snapshot_steps.split(",") if s} if a.snapshot_steps else set()
        by_time = a.steps <= 0          # the schedule spans the time budget instead of steps
        budget_s = a.time_budget_min * 60
        bar = tqdm(total=None if by_time else a.steps, initial=self.step,
                   disable=self.rank != 0 or a.quiet,
                   mininterval=5.0, desc=f"train {a.arch}")
        t_last = time.monotonic()
        losses, psnrs = [], []
        run_start = self.elapsed
        try:
            last = (min(a.steps, a.stop_step) if a.stop_step else a.steps) if not by_time \
                else (a.stop_step or 1 << 62)
            while self.step < last:
                # data-parallel ranks agree on the clock and on stopping (the slowest rank's
                # time), so they take the same schedule and leave at the same step
                elapsed, stopping = self._agree(self.elapsed, stop["flag"])
                if stopping:
                    break
                if a.time_budget_min and (elapsed if by_time else elapsed - run_start) \
                        >= budget_s:
                    if self.rank == 0:
                        print(f"train: time budget of {a.time_budget_min} min reached "
                              f"(step {self.step})")
                    break
                frac = elapsed / budget_s if by_time else self.step / a.steps
                crop = a.crop if frac < a.crop_switch else a.crop_late
                lr = lr_at(self.step, a.steps, a.lr, warmup=a.warmup,
                           frac=frac if by_time else None)
                for g in self.opt.param_groups:
                    g["lr"] = lr
                loss, p = self.train_step(crop)
                losses.append(loss)
                psnrs.append(p)
                self.step += 1
                now = time.monotonic()
                self.elapsed += now - t_last
                t_last = now
                bar.update(1)
                if self.step % a.log_every == 0 and writer:
                    row = {"step": self.step, "elapsed_s": round(self.elapsed, 1),
                           "lr": f"{lr:.3g}", "crop": crop,
                           "loss": f"{np.mean(losses):.6f}", "train_psnr": f"{np.mean(psnrs):.2f}"}
                    if a.val_every and self.step % a.val_every == 0:
                        row.update({k: f"{v:.2f}" for k, v in
                                    validate(self.model, self.val, self.device).items()})
                        bar.set_postfix(psnr=row["train_psnr"], val=row["val_psnr_full"])
                    writer.writerow(row)
                    logf.flush()
                    losses, psnrs = [], []
                    t_last = time.monotonic()
                if self.step in snaps and self.rank == 0:
                    save_checkpoint(self.model, self.out / "snapshots" / f"step_{self.step}.pt",
                                    self._training_meta())
                if self.step % a.ckpt_every == 0:
                    self.save()
        except KeyboardInterrupt:
            print("train: interrupted, saving")
        finally:
            self.save()
            bar.close()
            if logf:
                logf.close()
            signal.signal(signal.SIGTERM, old)
        if self.world > 1:
            # leave together and tear down gloo/nccl cleanly (its threads abort the process
            # at exit otherwise)
            import torch.distributed as dist
            dist.barrier()
            dist.destroy_process_group()
        if self.rank == 0:
            print(f"train: step {self.step}, {self.elapsed / 60:.1f} min, checkpoint "
                  f"{self.out / 'model.pt'}")
            if self.val:
                v = validate(self.model, self.val, self.device)
                print(f"train: held-out PSNR at 10 dB: full keep {v['val_psnr_full']:.2f} dB, "
                      f"keep {self.model.C // 2} {v['val_psnr_half']:.2f} dB")
        return 0


if __name__ == "__main__":
    # The options live in the command line (semcom.cli.train), above this package: the old
    # entry point says where it went instead of importing upward.
    import sys

    sys.exit("python -m models.train moved: run `semcom train ...` or `python -m "
             "semcom.cli.train ...` (torchrun: `torchrun ... -m semcom.cli.train ...`)")
