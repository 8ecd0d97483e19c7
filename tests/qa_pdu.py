"""The PDU and key contract (semcom.pdu): one spelling per SNR quantity across the packages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from semcom import pdu

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("semcom", "models", "sdr_tx", "sdr_rx", "channel", "flowgraphs", "calibration",
            "apps")
SNR_KEY = re.compile(r"[a-z_]*snr[a-z_]*_db")       # an SNR in dB (psnr is a quality)


def snr_keys_in_source() -> dict[str, str]:
    """SNR keys the packages write or read: string constants that are such a key, and the
    keyword names of frame-log events (``log.event("frame", snr_est_raw_db=...)``)."""
    found = {}
    for pkg in PACKAGES:
        for f in (REPO / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text(), str(f))):
                names = []
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names = [node.value]
                elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "event":
                    names = [k.arg for k in node.keywords if k.arg]
                for n in names:
                    if SNR_KEY.fullmatch(n) and "psnr" not in n:
                        found.setdefault(n, f"{f.relative_to(REPO)}:{node.lineno}")
    return found


def test_the_scan_finds_the_keys():
    """The scan itself sees the keys written today (one it missed would pass the check)."""
    found = snr_keys_in_source()
    for key in ("snr_est_db", "snr_est_raw_db", "snr_used_db", "tx_snr_db", "true_snr_db"):
        assert key in found, key


def test_every_snr_key_is_named_in_the_contract():
    """A new spelling of an SNR fails here: name it in semcom.pdu.SNR_KEYS (with what it means)
    or use the existing name of its quantity."""
    found = snr_keys_in_source()
    unknown = {k: where for k, where in found.items() if k not in pdu.SNR_KEYS}
    assert not unknown, unknown
    # no stale entries either: every named key is still used somewhere
    assert not set(pdu.SNR_KEYS) - set(found), set(pdu.SNR_KEYS) - set(found)


def test_the_controller_decision_and_the_raw_estimate_are_distinct_keys():
    from sdr_tx.rate_controller import Decision

    assert pdu.SNR_USED_DB in Decision.__dataclass_fields__
    assert pdu.SNR_USED_DB != pdu.SNR_EST_RAW_DB != pdu.SNR_EST_DB
    assert all(isinstance(v, str) and v for v in pdu.SNR_KEYS.values())
