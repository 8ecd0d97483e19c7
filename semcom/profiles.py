"""Named multipath tap profiles, shared by the training channels and the channel emulator.

Delays are in samples at the PHY's sample rate; powers in dB relative to the first tap.
``incp`` fits inside the default cyclic prefix (16 samples); ``long`` reaches past it, so part of
its energy becomes inter-symbol interference.
"""

from __future__ import annotations

import numpy as np

from semcom.numerology import CP_LEN, FFT_LEN  # noqa: F401  (defined once there)

PROFILES: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "incp": ((0, 1, 3, 5, 8, 12), (0.0, -2.0, -4.0, -7.0, -10.0, -14.0)),
    "long": ((0, 2, 6, 14, 24, 40), (0.0, -3.0, -5.0, -8.0, -10.0, -13.0)),
}


def profile_powers(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(delays int, linear powers normalised to sum 1) of a named profile."""
    try:
        delays, pdb = PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise KeyError(f"unknown multipath profile {name!r}; known: {known}") from None
    p = 10.0 ** (np.asarray(pdb) / 10.0)
    return np.asarray(delays, dtype=np.int64), p / p.sum()
