"""Reading semcom's SigMF recordings back (untrusted input: every fault is one clear line).

``resolve(rec)``: REC is a ``.sigmf-meta`` (or its ``.sigmf-data``), a ``.sigmf-collection``
or a ``--record`` folder -> the metadata files it names. ``load(meta)`` -> :class:`Recording`
after checking that the metadata parses and passes ``sigmf`` validation, that the datatype is
cf32_le, and that the data file exists, holds whole samples, reaches the last annotation and
matches its ``core:sha512`` when one is given (a truncated or changed file). Any fault raises
:class:`semcom.validate.OptionError` naming the file. ``merge_truth`` adds the channel
emulator's truth log (true SNR per frame) to a recording's annotations, atomically.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semcom.validate import OptionError

META, DATA, COLLECTION = ".sigmf-meta", ".sigmf-data", ".sigmf-collection"
ITEM = 8


@dataclass
class Recording:
    meta_path: Path
    data_path: Path
    meta: dict
    samples: int

    @property
    def samp_rate(self) -> float:
        return float(self.meta["global"]["core:sample_rate"])

    @property
    def annotations(self) -> list[dict]:
        return self.meta.get("annotations", [])

    @property
    def name(self) -> str:
        return self.meta_path.name[:-len(META)]

    def read(self, start: int = 0, count: int = -1) -> np.ndarray:
        """Samples as complex64 (a read-only memory map slice)."""
        mm = np.memmap(self.data_path, dtype=np.complex64, mode="r", shape=(self.samples,)) \
            if self.samples else np.zeros(0, np.complex64)
        end = self.samples if count < 0 else min(self.samples, start + count)
        return mm[start:end]


def resolve(rec, name: str = "recording") -> list[Path]:
    """The metadata files a recording argument names (OptionError when none)."""
    p = Path(rec)
    if not str(rec) or not p.exists():
        raise OptionError(f"{name} {p}: no such file or folder")
    if p.is_dir():
        metas = sorted(p.glob("*" + META))
        cols = sorted(p.glob("*" + COLLECTION))
        if not metas and cols:
            return resolve(cols[0], name)
        if not metas:
            raise OptionError(f"{name} {p}: no {META} file in this folder")
        return metas
    if p.name.endswith(DATA):
        return [p.with_name(p.name[:-len(DATA)] + META)]
    if p.name.endswith(COLLECTION):
        try:
            col = json.loads(p.read_text())
            streams = col["collection"]["core:streams"]
            names = [s["name"] for s in streams]
            hashes = [s.get("hash") for s in streams]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError,
                AttributeError) as exc:
            raise OptionError(f"{name} {p}: not a readable SigMF collection "
                              f"({type(exc).__name__}: {exc})") from None
        if not names or not all(isinstance(n, str) for n in names):
            raise OptionError(f"{name} {p}: the collection names no recordings")
        metas = [p.parent / (n if n.endswith(META) else n + META) for n in names]
        from sigmf.hashing import calculate_sha512
        for m, h in zip(metas, hashes, strict=True):
            if not m.is_file():
                raise OptionError(f"{name} {p}: names {m}, which does not exist")
            if h and calculate_sha512(filename=m) != h:
                raise OptionError(f"{name} {p}: {m.name} changed since the collection was "
                                  "made (its hash differs): make it again")
        return metas
    if p.name.endswith(META):
        return [p]
    raise OptionError(f"{name} {p}: not a SigMF recording (a {META}, a {COLLECTION} or a "
                      "--record folder)")


def load(meta_path, name: str = "recording", verify_hash: bool = True) -> Recording:
    """A recording, checked (OptionError with one clear line on any fault)."""
    from sigmf import validate as sigmf_validate

    mp = Path(meta_path)
    if not mp.is_file():
        raise OptionError(f"{name} {mp}: no such metadata file")
    try:
        meta = json.loads(mp.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OptionError(f"{name} {mp}: malformed metadata (not JSON: "
                          f"{str(exc)[:100]})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("global"), dict):
        raise OptionError(f"{name} {mp}: malformed metadata (no global object)")
    meta.setdefault("captures", [])
    meta.setdefault("annotations", [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sigmf_validate.validate(meta)
    except Exception as exc:           # jsonschema's ValidationError and its relatives
        msg = getattr(exc, "message", None) or str(exc)
        raise OptionError(f"{name} {mp}: malformed metadata (fails SigMF validation: "
                          f"{' '.join(str(msg).split())[:150]})") from None
    g = meta["global"]
    if g.get("core:datatype") != "cf32_le":
        raise OptionError(f"{name} {mp}: datatype {g.get('core:datatype')!r}; semcom reads "
                          "cf32_le recordings")
    try:
        rate = float(g.get("core:sample_rate", 0))
    except (TypeError, ValueError):
        rate = 0.0
    if not (np.isfinite(rate) and 0 < rate <= 1e10):
        raise OptionError(f"{name} {mp}: no usable core:sample_rate")
    data = mp.with_name(mp.name[:-len(META)] + DATA) if mp.name.endswith(META) else \
        mp.with_suffix(DATA)
    if g.get("core:dataset"):
        data = mp.parent / Path(str(g["core:dataset"])).name
    if not data.is_file():
        raise OptionError(f"{name} {mp}: its data file {data.name} is missing")
    size = data.stat().st_size
    if size % ITEM:
        raise OptionError(f"{name} {data}: truncated data file ({size} bytes is not a whole "
                          "number of cf32 samples)")
    samples = size // ITEM
    anns = meta["annotations"]
    try:
        need = max((int(a["core:sample_start"]) + int(a.get("core:sample_count", 0))
                    for a in anns), default=0)
    except (TypeError, ValueError):
        need = 0
    if need > samples:
        raise OptionError(f"{name} {data}: truncated data file ({samples} samples; the "
                          f"metadata annotates up to sample {need})")
    if verify_hash and g.get("core:sha512"):
        from sigmf.hashing import calculate_sha512
        if calculate_sha512(filename=data) != g["core:sha512"]:
            raise OptionError(f"{name} {data}: does not match the sha512 in its metadata "
                              "(truncated or changed)")
    return Recording(mp, data, meta, samples)


def load_all(rec, name: str = "recording") -> list[Recording]:
    return [load(m, name) for m in resolve(rec, name)]


def merge_truth(meta_path, truth_path, channel: dict | None = None) -> int:
    """Add the emulator's truth (true SNR per frame, matched on image id, frame index and
    sequence number) to the recording's annotations; -> annotations matched. Atomic."""
    mp = Path(meta_path)
    meta = json.loads(mp.read_text())
    truth = {}
    try:
        lines = Path(truth_path).read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            t = json.loads(line)
            truth[(t["image_id"], t["frame_idx"], t["seq"])] = t
        except (ValueError, KeyError, TypeError):
            continue               # a line cut by a kill
    n = 0
    for a in meta.get("annotations", []):
        key = (a.get("semcom:image_id"), a.get("semcom:frame_idx"), a.get("semcom:seq"))
        t = truth.get(key)
        if t is not None:
            a["semcom:true_snr_db"] = t.get("snr_db")
            a["semcom:channel_burst"] = t.get("burst")
            n += 1
    if channel is not None:
        meta["global"]["semcom:channel"] = channel
    tmp = mp.with_name(mp.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=4) + "\n")
    os.replace(tmp, mp)
    return n
