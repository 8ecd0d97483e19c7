"""Receiver adaptation fitted on a recorded dataset: a widely-linear correction per data carrier.

The OFDM receiver equalises each carrier linearly; impairments the training channel does not
model leave structure in what it delivers. IQ imbalance above all: carrier ``k`` receives a
share of the conjugate of carrier ``-k`` (its mirror), which the linear equaliser cannot
remove and the decoder then treats as noise. Fitted by least squares on a dataset
(``semcom dataset export`` with the TX's record: received and sent symbols per frame), per data
carrier ``k``::

    x_hat[k] = a[k] * y[k] + b[k] * conj(y[-k])

scaled to be unbiased (least squares alone would shrink, and the decoder shrinks again), and the
noise variance the decoder is told is scaled per carrier by the ratio of the residual error
after the correction to the receiver's estimate (both measured on the dataset). The TX is
unchanged: the adaptation names the model hash it decodes (``tx_model_hash``) and has a hash of
its own (``adapt_hash``); the RX (``semcom rx --adapt FILE``) refuses one made for another
model. Frames are corrected on the carrier grid: a deinterleaved payload is re-interleaved
(:mod:`semcom.interleave`), laid on the 48 data carriers of its OFDM symbols, corrected and
deinterleaved again; a carrier whose mirror is padding (the last OFDM symbol) gets ``a[k]``
only. Files are JSON (``format: semcom-rx-adapt``), read as untrusted input.

Limits (measured): a fixed correction holds while the mirror term stays put. IQ imbalance at
the transmitter, or at a receiver with no carrier offset and little phase noise, qualifies
(``python -m benchmarks.finetune``: +1.5 dB on held-out photos). A receiver-side imbalance
after a carrier offset or a phase-noise random walk puts the mirror term off its carrier or
turns it from frame to frame (2 x the offset, 2 x the phase): then a fixed fit gains nothing,
and the remedy is a per-frame widely-linear estimate in the PHY (from the frame's known
header symbols).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from semcom import interleave
from semcom import numerology as nm
from semcom.validate import OptionError

FORMAT = "semcom-rx-adapt"
VERSION = 1
N = nm.N_DATA
MIRROR = np.array([list(nm.DATA_CARRIERS).index(-k) for k in nm.DATA_CARRIERS])
MIN_SAMPLES = 16          # symbols per carrier to fit its two coefficients


def to_grid(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A deinterleaved payload -> (OFDM symbols x 48 carriers, mask of real symbols)."""
    x = interleave.interleave(np.asarray(v))
    n = -(-len(x) // N)
    g = np.zeros(n * N, x.dtype)
    g[:len(x)] = x
    m = np.zeros(n * N, bool)
    m[:len(x)] = True
    return g.reshape(n, N), m.reshape(n, N)


def from_grid(g: np.ndarray, length: int) -> np.ndarray:
    return interleave.deinterleave(g.reshape(-1)[:length])


class RxAdaptation:
    def __init__(self, a: np.ndarray, b: np.ndarray, nv_scale: np.ndarray,
                 tx_model_hash: str, info: dict | None = None):
        self.a = np.asarray(a, np.complex128)
        self.b = np.asarray(b, np.complex128)
        self.nv_scale = np.asarray(nv_scale, np.float64)
        self.tx_model_hash = str(tx_model_hash)
        self.info = dict(info or {})

    @property
    def adapt_hash(self) -> str:
        blob = json.dumps([self.tx_model_hash, np.round(self.a, 9).view(float).tolist(),
                           np.round(self.b, 9).view(float).tolist(),
                           np.round(self.nv_scale, 9).tolist()])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # -- fit --------------------------------------------------------------------------------
    @classmethod
    def fit(cls, pairs, tx_model_hash: str, info: dict | None = None) -> RxAdaptation:
        """``pairs``: iterable of (received, sent, noise_var) deinterleaved payloads."""
        Y, Ym, X, NV, M, MM = [], [], [], [], [], []
        for y, x, nv in pairs:
            gy, m = to_grid(np.asarray(y, np.complex128))
            gx, _ = to_grid(np.asarray(x, np.complex128))
            gn, _ = to_grid(np.asarray(nv, np.float64))
            Y.append(gy)
            Ym.append(np.conj(gy[:, MIRROR]))
            X.append(gx)
            NV.append(gn)
            M.append(m)
            MM.append(m & m[:, MIRROR])
        if not Y:
            raise OptionError("--finetune-real: the dataset has no frames with transmitted "
                              "symbols (export it with the TX's record)")
        Y, Ym, X, NV, M, MM = (np.concatenate(v) for v in (Y, Ym, X, NV, M, MM))
        a, b, scale = np.ones(N, complex), np.zeros(N, complex), np.ones(N)
        for k in range(N):
            s = MM[:, k]
            if s.sum() < MIN_SAMPLES:
                continue
            A = np.stack([Y[s, k], Ym[s, k]], 1)
            c, *_ = np.linalg.lstsq(A, X[s, k], rcond=None)
            # least squares shrinks (it is the LMMSE estimate); the decoder wants an unbiased
            # observation x + noise and does its own shrinking: divide by the gain on x
            g = np.vdot(X[s, k], A @ c) / max(float(np.vdot(X[s, k], X[s, k]).real), 1e-30)
            if abs(g) > 1e-6:
                c = c / g
            a[k], b[k] = c
            resid = np.mean(np.abs(A @ c - X[s, k]) ** 2)
            scale[k] = resid / max(float(np.mean(NV[s, k])), 1e-12)
        before = float(np.mean(np.abs(Y[M] - X[M]) ** 2))
        corr = a * Y + b * Ym
        after = float(np.mean(np.abs(corr[MM] - X[MM]) ** 2))
        meta = {**(info or {}), "symbols": int(M.sum()),
                "error_before_db": round(10 * np.log10(before), 3),
                "error_after_db": round(10 * np.log10(max(after, 1e-30)), 3)}
        return cls(a, b, scale, tx_model_hash, meta)

    # -- apply ------------------------------------------------------------------------------
    def apply(self, symbols: np.ndarray, noise_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A frame's deinterleaved symbols and noise variances, corrected."""
        n = len(symbols)
        if n == 0 or len(noise_var) != n:
            return symbols, noise_var
        gy, m = to_grid(np.asarray(symbols, np.complex64))
        gn, _ = to_grid(np.asarray(noise_var, np.float32))
        mm = m & m[:, MIRROR]
        mirror = np.where(mm, np.conj(gy[:, MIRROR]), 0)
        out = (self.a * gy + self.b * mirror).astype(np.complex64)
        nv = (gn * self.nv_scale).astype(np.float32)
        return from_grid(out, n), from_grid(nv, n)

    # -- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "kind": "widely-linear per carrier",
                "tx_model_hash": self.tx_model_hash, "adapt_hash": self.adapt_hash,
                "a": np.stack([self.a.real, self.a.imag], 1).round(9).tolist(),
                "b": np.stack([self.b.real, self.b.imag], 1).round(9).tolist(),
                "nv_scale": self.nv_scale.round(9).tolist(), "info": self.info}

    def save(self, path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path, name: str = "--adapt") -> RxAdaptation:
        p = Path(path)
        try:
            d = json.loads(p.read_text())
            if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("version") != \
                    VERSION:
                raise ValueError(f"not a {FORMAT} version {VERSION} file")
            a = np.asarray(d["a"], float)
            b = np.asarray(d["b"], float)
            s = np.asarray(d["nv_scale"], float)
            if a.shape != (N, 2) or b.shape != (N, 2) or s.shape != (N,):
                raise ValueError("coefficients of the wrong shape")
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and
                    np.all(np.isfinite(s)) and np.all(s > 0)):
                raise ValueError("coefficients not finite (or a noise scale <= 0)")
            h = str(d["tx_model_hash"])
            info = d.get("info") if isinstance(d.get("info"), dict) else {}
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise OptionError(f"{name} {p}: not a usable receiver adaptation "
                              f"({' '.join(str(exc).split())[:120]})") from None
        ad = cls(a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1], s, h, info)
        if d.get("adapt_hash") != ad.adapt_hash:
            raise OptionError(f"{name} {p}: its adapt_hash does not match its coefficients "
                              "(changed or damaged)")
        return ad


def dataset_pairs(ds: Path, select=None):
    """(received, sent, noise_var, row) of every payload frame of a dataset with transmitted
    symbols; ``select(row)`` picks frames (e.g. by image id)."""
    import io

    from semcom.dataset import _manifest, _sha256

    rows, _ = _manifest(ds)
    for r in rows:
        if r.get("side") or r.get("tx_symbols") is not True:
            continue
        if select is not None and not select(r):
            continue
        try:
            data = (ds / str(r["shard"])).read_bytes()
            if _sha256(data) != r.get("sha256"):
                continue
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                y, x, nv = z["rx_symbols"], z["tx_symbols"], z["noise_var"]
        except (OSError, ValueError, KeyError):
            continue
        if y.shape == x.shape == nv.shape and y.ndim == 1:
            yield y, x, nv, r


def finetune(ds: Path, out: Path, images: str = "", expect: str = "",
             expect_name: str = "--init") -> RxAdaptation:
    """Fit an adaptation on a dataset (optionally only the frames of some image ids); with
    ``expect`` (a model hash), a dataset of another model is refused before anything."""
    from semcom.validate import integers

    want = set(integers("--images", images, 0, 65535)) if images else None
    rows = list(dataset_pairs(ds, (lambda r: r.get("image_id") in want) if want else None))
    hashes = {str(r.get("model_hash")) for *_, r in rows}
    if len(hashes) > 1:
        raise OptionError(f"--finetune-real {ds}: frames of {len(hashes)} models "
                          f"({', '.join(sorted(hashes))}): export one model's recordings")
    h = hashes.pop() if hashes else ""
    if rows and (not h or h == "None"):
        raise OptionError(f"--finetune-real {ds}: the frames name no full model hash (the "
                          "recording's RX model differs from the frames')")
    if expect and h != expect:
        raise OptionError(f"--finetune-real {ds}: its frames are of model {h or '(none)'}, "
                          f"{expect_name} is model {expect}: fine-tune on that model's data")
    ad = RxAdaptation.fit(((y, x, nv) for y, x, nv, _ in rows), h,
                          {"dataset": str(ds), "frames": len(rows),
                           "images": sorted(want) if want else "all"})
    ad.save(out)
    return ad
