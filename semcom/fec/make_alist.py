"""Write the IEEE 802.11n (802.11-2012 Annex F, "HT LDPC") parity-check matrices for the
n = 1944 codeword length (Z = 81) as alist files that gr-fec's LDPC encoder and decoder read.

    python -m semcom.fec.make_alist          # rewrites semcom/fec/wifi_n1944_*.alist

Each base matrix entry is -1 (an 81x81 zero block) or a shift s (the 81x81 identity with its
columns cyclically shifted right by s). The base matrices below are transcribed from IEEE Std
802.11-2012, Tables F-1 to F-4 (the Z = 81 column of each rate), the same tables the 802.11n/ac
LDPC codes of every Wi-Fi chip use. The alist format is MacKay's (1-based indices, the row
and column lists padded with zeros to the largest degree).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

Z = 81
N = 1944
_ = -1
BASE = {
    "1_2": [
        [57, _, _, _, 50, _, 11, _, 50, _, 79, _, 1, 0, _, _, _, _, _, _, _, _, _, _],
        [3, _, 28, _, 0, _, _, _, 55, 7, _, _, _, 0, 0, _, _, _, _, _, _, _, _, _],
        [30, _, _, _, 24, 37, _, _, 56, 14, _, _, _, _, 0, 0, _, _, _, _, _, _, _, _],
        [62, 53, _, _, 53, _, _, 3, 35, _, _, _, _, _, _, 0, 0, _, _, _, _, _, _, _],
        [40, _, _, 20, 66, _, _, 22, 28, _, _, _, _, _, _, _, 0, 0, _, _, _, _, _, _],
        [0, _, _, _, 8, _, 42, _, 50, _, _, 8, _, _, _, _, _, 0, 0, _, _, _, _, _],
        [69, 79, 79, _, _, _, 56, _, 52, _, _, _, 0, _, _, _, _, _, 0, 0, _, _, _, _],
        [65, _, _, _, 38, 57, _, _, 72, _, 27, _, _, _, _, _, _, _, _, 0, 0, _, _, _],
        [64, _, _, _, 14, 52, _, _, 30, _, _, 32, _, _, _, _, _, _, _, _, 0, 0, _, _],
        [_, 45, _, 70, 0, _, _, _, 77, 9, _, _, _, _, _, _, _, _, _, _, _, 0, 0, _],
        [2, 56, _, 57, 35, _, _, _, _, _, 12, _, _, _, _, _, _, _, _, _, _, _, 0, 0],
        [24, _, 61, _, 60, _, _, 27, 51, _, _, 16, 1, _, _, _, _, _, _, _, _, _, _, 0],
    ],
    "2_3": [
        [61, 75, 4, 63, 56, _, _, _, _, _, _, 8, _, 2, 17, 25, 1, 0, _, _, _, _, _, _],
        [56, 74, 77, 20, _, _, _, 64, 24, 4, 67, _, 7, _, _, _, _, 0, 0, _, _, _, _, _],
        [28, 21, 68, 10, 7, 14, 65, _, _, _, 23, _, _, _, 75, _, _, _, 0, 0, _, _, _, _],
        [48, 38, 43, 78, 76, _, _, _, _, 5, 36, _, 15, 72, _, _, _, _, _, 0, 0, _, _, _],
        [40, 2, 53, 25, _, 52, 62, _, 20, _, _, 44, _, _, _, _, 0, _, _, _, 0, 0, _, _],
        [69, 23, 64, 10, 22, _, 21, _, _, _, _, _, 68, 23, 29, _, _, _, _, _, _, 0, 0, _],
        [12, 0, 68, 20, 55, 61, _, 40, _, _, _, 52, _, _, _, 44, _, _, _, _, _, _, 0, 0],
        [58, 8, 34, 64, 78, _, _, 11, 78, 24, _, _, _, _, _, 58, 1, _, _, _, _, _, _, 0],
    ],
    "3_4": [
        [48, 29, 28, 39, 9, 61, _, _, _, 63, 45, 80, _, _, _, 37, 32, 22, 1, 0, _, _, _, _],
        [4, 49, 42, 48, 11, 30, _, _, _, 49, 17, 41, 37, 15, _, 54, _, _, _, 0, 0, _, _, _],
        [35, 76, 78, 51, 37, 35, 21, _, 17, 64, _, _, _, 59, 7, _, _, 32, _, _, 0, 0, _, _],
        [9, 65, 44, 9, 54, 56, 73, 34, 42, _, _, _, 35, _, _, _, 46, 39, 0, _, _, 0, 0, _],
        [3, 62, 7, 80, 68, 26, _, 80, 55, _, 36, _, 26, _, 9, _, 72, _, _, _, _, _, 0, 0],
        [26, 75, 33, 21, 69, 59, 3, 38, _, _, _, 35, _, 62, 36, 26, _, _, 1, _, _, _, _, 0],
    ],
    "5_6": [
        [13, 48, 80, 66, 4, 74, 7, 30, 76, 52, 37, 60, _, 49, 73, 31, 74, 73, 23, _, 1, 0, _, _],
        [69, 63, 74, 56, 64, 77, 57, 65, 6, 16, 51, _, 64, _, 68, 9, 48, 62, 54, 27, _, 0, 0, _],
        [51, 15, 0, 80, 24, 25, 42, 54, 44, 71, 71, 9, 67, 35, _, 58, _, 29, _, 53, 0, _, 0, 0],
        [16, 29, 36, 41, 44, 56, 59, 37, 50, 24, _, 65, 4, 65, 52, _, 4, _, 73, 52, 1, _, _, 0],
    ],
}


def parity_check(rate: str) -> np.ndarray:
    """The full binary H (rows N - K, columns N) of the 802.11n n = 1944 code of ``rate``."""
    base = np.array(BASE[rate])
    rows, cols = base.shape
    H = np.zeros((rows * Z, cols * Z), np.uint8)
    eye = np.arange(Z)
    for r in range(rows):
        for c in range(cols):
            s = base[r, c]
            if s >= 0:
                H[r * Z + eye, c * Z + (eye + s) % Z] = 1
    return H


def alist_text(H: np.ndarray) -> str:
    m, n = H.shape
    col_rows = [np.flatnonzero(H[:, j]) + 1 for j in range(n)]
    row_cols = [np.flatnonzero(H[i]) + 1 for i in range(m)]
    dv, dc = max(map(len, col_rows)), max(map(len, row_cols))
    lines = [f"{n} {m}", f"{dv} {dc}", " ".join(str(len(c)) for c in col_rows),
             " ".join(str(len(r)) for r in row_cols)]
    lines += [" ".join(map(str, list(c) + [0] * (dv - len(c)))) for c in col_rows]
    lines += [" ".join(map(str, list(r) + [0] * (dc - len(r)))) for r in row_cols]
    return "\n".join(lines) + "\n"


def main() -> int:
    here = Path(__file__).resolve().parent
    for rate in BASE:
        H = parity_check(rate)
        path = here / f"wifi_n{N}_r{rate}.alist"
        path.write_text(alist_text(H))
        print(f"{path.name}: {H.shape[0]} checks x {H.shape[1]} bits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
