"""LDPC codes through GNU Radio gr-fec: a thin wrapper around ``fec.ldpc_encoder_make`` and
``fec.ldpc_decoder.make`` (sum-product decoding), called codeword by codeword through their
``generic_work`` (the buffers handed over as capsules; no flowgraph, so the TX's encoder block
can call it from its message handler), with the IEEE 802.11n n = 1944 parity-check matrices
of ``semcom/fec/*.alist`` (rates 1/2, 2/3, 3/4, 5/6; see ``semcom/fec/README.md``).

Conventions at this interface: bits are uint8 0/1; LLRs are ``log P(0)/P(1)`` (positive for a
0 bit). gr-fec 3.10.5's decoder takes soft values with the opposite sign and forms its
likelihood ratio as ``exp(v / 2 sigma^2)``; with ``sigma = 1`` an LLR ``L`` therefore goes in as
``v = -2 L``, capped at ``|L| <= LLR_CLIP`` (its likelihood-ratio arithmetic overflows on larger
values). Encoders and decoders are built once per rate and process (building one inverts H,
about a second).
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache
from pathlib import Path

import numpy as np

from semcom.mcs import LLR_CLIP, N_CODE

ALIST_DIR = Path(__file__).resolve().parent / "fec"
RATES = ("1/2", "2/3", "3/4", "5/6")
MAX_ITERATIONS = 50


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)


def _buf(a: np.ndarray):
    """A capsule holding a contiguous array's data pointer (gr-fec's ``void*`` buffers); the
    caller keeps ``a`` alive while the capsule is used."""
    return _capsule_new(a.ctypes.data, None, None)


def alist_path(rate: str) -> Path:
    if rate not in RATES:
        raise ValueError(f"no LDPC code of rate {rate}; rates: {', '.join(RATES)}")
    return ALIST_DIR / f"wifi_n{N_CODE}_r{rate.replace('/', '_')}.alist"


class LDPC:
    def __init__(self, rate: str, max_iterations: int = MAX_ITERATIONS):
        from gnuradio import fec

        path = str(alist_path(rate))
        self.rate = rate
        self._enc = fec.ldpc_encoder_make(path)
        self._dec = fec.ldpc_decoder.make(path, 1.0, max_iterations)
        self.k = int(self._enc.get_input_size())
        self.n = int(self._enc.get_output_size())
        if self.n != N_CODE:
            raise ValueError(f"{path}: codeword length {self.n}, expected {N_CODE}")
        self._lock = threading.Lock()

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """``m * k`` information bits -> ``m * n`` coded bits (gr-fec's encoder)."""
        bits = np.ascontiguousarray(bits, np.uint8).ravel()
        if bits.size % self.k:
            raise ValueError(f"{bits.size} bits are not whole codewords of k = {self.k}")
        m = bits.size // self.k
        out = np.zeros((m, self.n), np.uint8)
        rows = bits.reshape(m, self.k)
        with self._lock:
            for i in range(m):
                src = np.ascontiguousarray(rows[i])
                self._enc.generic_work(_buf(src), _buf(out[i]))
        return out.ravel()

    def decode(self, llr: np.ndarray) -> np.ndarray:
        """``m * n`` LLRs (log P(0)/P(1)) -> ``m * k`` decided information bits (gr-fec's
        sum-product decoder; a codeword it cannot correct comes back wrong, not flagged)."""
        llr = np.asarray(llr, np.float32).ravel()
        if llr.size % self.n:
            raise ValueError(f"{llr.size} LLRs are not whole codewords of n = {self.n}")
        v = np.clip(np.nan_to_num(-2.0 * llr), -2 * LLR_CLIP, 2 * LLR_CLIP).astype(np.float32)
        m = v.size // self.n
        v = v.reshape(m, self.n)
        out = np.zeros((m, self.k), np.uint8)
        with self._lock:
            for i in range(m):
                self._dec.generic_work(_buf(v[i]), _buf(out[i]))
        return out.ravel()


@cache
def code(rate: str) -> LDPC:
    return LDPC(rate)
