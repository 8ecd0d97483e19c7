"""``semcom dataset``: per-frame training data from SigMF recordings (export, check, info,
collect).

``semcom dataset export REC... --out DS`` runs the receive path (the RX's own
:class:`sdr_rx.stream_receiver.StreamReceiver`, its default SNR correction) over each
recording (a ``.sigmf-meta``, a ``.sigmf-collection`` or a ``--record`` folder) and writes one
shard per decoded frame, ``DS/shards/r<k>_<name>_<sample_start>.npz`` (``k``: the
recording's position): ``rx_symbols`` (the equalised JSCC symbols, deinterleaved,
complex64), ``noise_var`` (per symbol, float32), ``spectra`` (the payload's CFO-corrected
spectra before equalisation: OFDM symbols x the 52 used carriers, ``used_carriers`` in
``dataset.json``), ``channel`` (the channel estimate on those carriers) and
``tx_symbols`` (what was sent, from the TX's record: ``--tx-record DIR``, or the ``tx`` folder a
loopback recording names; empty when absent), plus one line per shard in
``DS/manifest.jsonl``: shard file and its sha256, the back-link (recording metadata path
relative to DS, ``sample_start``, ``sample_count``), session, image id, frame index and count,
sequence number, keep, side flag, payload length, model id and model hash, SNR estimate, true
SNR where the recording knows it (emulator truth), CFO, mean noise variance, and whether the
transmitted symbols are present (``tx_absent`` says why not). ``DS/dataset.json`` summarises.

``semcom dataset check DS`` validates every shard (present, hash, shapes, dtypes, finite noise
variances) and every back-link (the recording loads, the frame lies inside it, an annotation
starts there): one line per problem, exit 1 when there is any. ``semcom dataset info DS``
prints frames, recordings, sessions, SNR histogram and the SNR measured from the transmitted
symbols, and plots them (``DS/info.png``). ``semcom dataset collect REC... --out
CAMPAIGN.sigmf-collection`` ties recordings together (a campaign) with the library's
``SigMFCollection``; wherever a recording is taken, such a file may stand for all of them.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
from pathlib import Path

import numpy as np

from semcom.dataset import FORMAT, N_DATA, N_USED, VERSION, _manifest, _sha256, _tx_symbols, info

CHUNK = 1 << 18            # samples per push into the receiver


def _snr_correction():
    try:
        from semcom.snr_correction import DEFAULT_PATH, SnrCorrection
        return SnrCorrection.load() if DEFAULT_PATH.exists() else None
    except Exception:          # no usable default: raw estimates (as the RX with 'none')
        return None


def _tx_record(rec, explicit: str):
    """The TX record for a recording: --tx-record, else the one a loopback recording names."""
    from sdr_tx.tx_recorder import load_record

    if explicit:
        return load_record(explicit)
    name = (rec.meta["global"].get("semcom:channel") or {}).get("tx_record") \
        if isinstance(rec.meta["global"].get("semcom:channel"), dict) else None
    if isinstance(name, str):
        folder = rec.meta_path.parent / Path(name).name
        if (folder / "sent.jsonl").is_file():
            return load_record(folder)
    return {}


def export(recs: list[str], out: Path, tx_record: str = "", command: str = "") -> dict:
    from sdr_rx.recording import load, resolve
    from sdr_rx.sigmf_recorder import LTF_BODY0, frame_span
    from sdr_rx.stream_receiver import StreamReceiver

    metas = []
    for r in recs:
        metas += resolve(r, "dataset export")
    recordings = [load(m, "dataset export") for m in metas]    # all checked before any work
    shards = out / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    corr = _snr_correction()
    manifest = open(out / "manifest.jsonl.tmp", "w")
    counts = {"frames": 0, "with_tx": 0, "with_true_snr": 0}
    per_rec = []
    for k, rec in enumerate(recordings):
        sent = _tx_record(rec, tx_record)
        ann = {int(a.get("core:sample_start", -1)): a for a in rec.annotations}
        g = rec.meta["global"]
        model_hash = str(g.get("semcom:model_hash", ""))
        rx = StreamReceiver(rec.samp_rate, None, snr_correction=corr)
        rx.keep_spectra = True
        frames = []
        for i in range(0, rec.samples, CHUNK):
            frames += rx.push(np.array(rec.read(i, CHUNK)))
        frames += rx.drain()
        cache: dict = {}
        link = os.path.relpath(rec.meta_path.resolve(), out.resolve())
        n_rec = 0
        for f in frames:
            h = f.header
            start = max(0, f.start - LTF_BODY0)
            a = ann.get(start, {})
            tx, why = _tx_symbols(sent, h, cache)
            name = f"r{k:03d}_{rec.name}_{start:012d}.npz"     # r<k>: k-th recording
            buf = io.BytesIO()
            np.savez(buf, rx_symbols=np.asarray(f.symbols, np.complex64),
                     noise_var=np.asarray(f.noise_var, np.float32),
                     tx_symbols=np.zeros(0, np.complex64) if tx is None else tx,
                     spectra=f.spectra, channel=f.channel)
            data = buf.getvalue()
            tmp = shards / (name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, shards / name)
            mid = f"{h.model_id:08x}"
            true = a.get("semcom:true_snr_db")
            line = {"shard": f"shards/{name}", "sha256": _sha256(data), "recording": link,
                    "sample_start": start, "sample_count": frame_span(h.payload_len),
                    "session": h.session, "image_id": h.image_id, "frame_idx": h.frame_idx,
                    "frame_count": h.frame_count, "seq": h.seq, "keep": h.keep,
                    "side": h.is_side, "payload_len": h.payload_len, "lat_h": h.lat_h,
                    "lat_w": h.lat_w, "img_h": h.img_h, "img_w": h.img_w, "model_id": mid,
                    "model_hash": model_hash if model_hash.startswith(mid) else None,
                    "tx_snr_db": h.tx_snr_db, "snr_est_db": round(float(f.snr_db), 4),
                    "true_snr_db": true if isinstance(true, (int, float)) else None,
                    "cfo_hz": round(float(f.cfo_hz), 2),
                    "noise_var_mean": float(np.mean(f.noise_var)) if f.noise_var.size else None,
                    "tx_symbols": tx is not None}
            if tx is None:
                line["tx_absent"] = why
            manifest.write(json.dumps(line) + "\n")
            counts["frames"] += 1
            counts["with_tx"] += tx is not None
            counts["with_true_snr"] += line["true_snr_db"] is not None
            n_rec += 1
        per_rec.append({"recording": link, "samples": rec.samples, "frames": n_rec,
                        "tx_record": bool(sent)})
        print(f"dataset: {rec.meta_path}: {n_rec} frames"
              f"{'' if sent else ' (no TX record: transmitted symbols absent)'}", flush=True)
    manifest.close()
    os.replace(out / "manifest.jsonl.tmp", out / "manifest.jsonl")
    from semcom import numerology as nm
    info = {"format": FORMAT, "version": VERSION, "recordings": per_rec, **counts,
            "used_carriers": list(nm.USED_CARRIERS), "data_carriers": list(nm.DATA_CARRIERS),
            "snr_correction": corr is not None, "command": command}
    tmp = out / "dataset.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, out / "dataset.json")
    return info


def collect(recs: list[str], out: Path, description: str = "") -> list[str]:
    """A SigMF collection file tying recordings together (a campaign); -> stream names."""
    from sigmf import SigMFCollection

    from sdr_rx.recording import load, resolve

    metas = []
    for r in recs:
        metas += [load(m, "dataset collect").meta_path for m in resolve(r, "dataset collect")]
    base = out.parent.resolve()
    rel = [os.path.relpath(m.resolve(), base) for m in metas]
    col = SigMFCollection(metafiles=rel, base_path=base)
    if description:
        col.set_collection_field("core:description", description)
    col.set_collection_field("core:extensions", [{"name": "semcom", "version": "1.0.0",
                                                  "optional": True}])
    tmp = out.with_name(out.name + ".tmp.sigmf-collection")
    col.tofile(tmp, overwrite=True)
    os.replace(tmp, out)
    return col.get_stream_names()


def check(ds: Path) -> list[str]:
    """Every problem of a dataset, one line each (empty: it is valid)."""
    from sdr_rx.recording import load
    from semcom.validate import OptionError

    rows, problems = _manifest(ds)
    recs: dict[str, object] = {}
    for i, row in enumerate(rows, 1):
        where = f"manifest line {i}"
        try:
            shard = ds / str(row["shard"])
            n = int(row["payload_len"])
            start, count = int(row["sample_start"]), int(row["sample_count"])
            want_tx = bool(row["tx_symbols"])
            link = str(row["recording"])
            sha = str(row["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: missing or bad field {exc}")
            continue
        if not shard.resolve().is_relative_to(ds.resolve()) or not shard.is_file():
            problems.append(f"{where}: shard {row['shard']} missing")
            continue
        data = shard.read_bytes()
        if _sha256(data) != sha:
            problems.append(f"{where}: shard {row['shard']}: sha256 differs (changed or "
                            "damaged)")
            continue
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                y, nv, x = z["rx_symbols"], z["noise_var"], z["tx_symbols"]
                spec, chan = z["spectra"], z["channel"]
        except Exception as exc:
            problems.append(f"{where}: shard {row['shard']} unreadable ({type(exc).__name__})")
            continue
        if y.dtype != np.complex64 or y.shape != (n,):
            problems.append(f"{where}: rx_symbols {y.dtype} {y.shape}, expected complex64 "
                            f"({n},)")
        if nv.dtype != np.float32 or nv.shape != (n,) or not np.all(np.isfinite(nv)) or \
                np.any(nv < 0):
            problems.append(f"{where}: noise_var {nv.dtype} {nv.shape} not float32 ({n},), "
                            "finite and >= 0")
        n_sym = -(-n // N_DATA)
        if spec.dtype != np.complex64 or spec.shape != (n_sym, N_USED):
            problems.append(f"{where}: spectra {spec.dtype} {spec.shape}, expected complex64 "
                            f"({n_sym}, {N_USED})")
        if chan.dtype != np.complex64 or chan.shape != (N_USED,):
            problems.append(f"{where}: channel {chan.dtype} {chan.shape}, expected complex64 "
                            f"({N_USED},)")
        if x.dtype != np.complex64 or x.shape != ((n,) if want_tx else (0,)):
            problems.append(f"{where}: tx_symbols {x.dtype} {x.shape}, expected complex64 "
                            f"{(n,) if want_tx else (0,)}")
        if link not in recs:
            try:
                recs[link] = load(ds / link, "recording", verify_hash=True)
            except OptionError as exc:
                recs[link] = str(exc)
        rec = recs[link]
        if isinstance(rec, str):
            problems.append(f"{where}: back-link: {rec}")
            continue
        if start < 0 or start + count > rec.samples:
            problems.append(f"{where}: back-link: samples {start}..{start + count} outside "
                            f"{link} ({rec.samples} samples)")
        elif rec.annotations and not any(int(a.get("core:sample_start", -1)) == start
                                         for a in rec.annotations):
            problems.append(f"{where}: back-link: no annotation of {link} starts at {start}")
    if not rows and not problems:
        problems.append("manifest.jsonl lists no frames")
    return problems


def run(args) -> int:
    from semcom import validate as v

    if args.action == "export":
        out = v.record_dir("--out", args.out, args.force)
        if args.tx_record:
            v.input_path("--tx-record", args.tx_record)
        res = export(args.recordings, out, args.tx_record, shlex.join(sys.argv))
        print(f"dataset: {res['frames']} frames from {len(res['recordings'])} recording(s), "
              f"{res['with_tx']} with transmitted symbols, {res['with_true_snr']} with true "
              f"SNR; wrote {out}")
        return 0
    if args.action == "collect":
        out = Path(args.out)
        if not out.name.endswith(".sigmf-collection"):
            raise v.OptionError(f"--out {out}: a collection file ends in .sigmf-collection")
        if out.exists() and not args.force:
            raise v.OptionError(f"--out {out}: exists (use --force to replace it)")
        v.output_file("--out", out)
        names = collect(args.recordings, out, args.description)
        print(f"dataset: collection of {len(names)} recording(s): {out}")
        return 0
    ds = Path(args.dataset)
    if args.action == "check":
        problems = check(ds)
        for p in problems[:50]:
            print(f"dataset check: {p}")
        if len(problems) > 50:
            print(f"dataset check: ... {len(problems) - 50} more problems")
        if problems:
            print(f"dataset check: {ds}: FAILED ({len(problems)} problems)")
            return 1
        rows, _ = _manifest(ds)
        print(f"dataset check: {ds}: OK, {len(rows)} frames, "
              f"{sum(bool(r.get('tx_symbols')) for r in rows)} with transmitted symbols")
        return 0
    plot = None if args.no_plot else Path(args.plot) if args.plot else ds / "info.png"
    if plot is not None:
        v.output_file("--plot", plot)
    s = info(ds, plot)
    print(json.dumps(s, indent=1))
    return 0
