"""Rate controller: picks ``keep`` for each image from the receiver's latest reports.

Policies (by name): ``fixed`` (always ``fixed_keep``); ``target`` (smallest keep whose
expected PSNR at the smoothed SNR less ``margin_db`` meets ``target_psnr``, the largest if
none does); ``budget``
(best expected PSNR with at most ``budget_symbols`` JSCC symbols per image). Expected PSNR comes
from a :class:`calibration.rate_table.RateTable` of the same model.

Reports are sanitised: non-finite or implausible SNRs (outside -20..60 dB) are rejected,
duplicates and out-of-order reports (sequence not newer than the last one) are ignored, and the
SNR is smoothed (exponential average in dB). Hysteresis: keep only changes when the smoothed
SNR moved more than ``hysteresis_db`` since the last change, or the current keep no longer
meets the target. With no report for ``timeout_s`` the controller falls back to ``safe_keep``
and says so. Every decision carries its inputs (for the log).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

POLICIES = ("fixed", "target", "budget")
SNR_PLAUSIBLE = (-20.0, 60.0)


@dataclass
class Report:
    seq: int                 # the RX's report counter
    snr_db: float            # estimated SNR of a frame (product convention)
    noise_var: float = float("nan")
    frames_received: int = 0
    crc_failures: int = 0
    image_id: int = -1
    frame_idx: int = -1
    session: str = ""        # the RX's run id: a new one means the RX restarted


@dataclass
class Decision:
    keep: int
    policy: str
    snr_used_db: float | None
    expected_psnr_db: float | None
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


class RateController:
    def __init__(self, channels: int, policy: str = "target", table=None,
                 target_psnr: float = 25.0, budget_symbols: int = 0, fixed_keep: int = 0,
                 safe_keep: int = 0, alpha: float = 0.5, hysteresis_db: float = 1.0,
                 timeout_s: float = 5.0, min_keep: int | None = None,
                 margin_db: float = 0.5):
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r}; one of {', '.join(POLICIES)}")
        if policy in ("target", "budget") and table is None:
            raise ValueError(f"policy {policy!r} needs a rate-quality table")
        self.C = channels
        self.policy = policy
        self.table = table
        self.target = target_psnr
        self.budget = budget_symbols
        self.fixed_keep = fixed_keep or channels
        self.safe_keep = safe_keep or channels
        self.alpha = alpha
        self.hyst = hysteresis_db
        self.timeout_s = timeout_s
        self.min_keep = min_keep or max(1, channels // 8)
        self.margin = margin_db         # plan for an SNR this much below the estimate
        self.snr: float | None = None
        self.last_seq = -1
        self.session: str | None = None
        self.last_report_t: float | None = None
        self.keep = self.safe_keep
        self.snr_at_change: float | None = None
        self.rejected = 0
        self.ignored = 0

    # -- reports ------------------------------------------------------------------------------
    def on_report(self, r: Report, now: float) -> bool:
        """Take a report; False when it was rejected (nonsense) or ignored (old, duplicate)."""
        if not (isinstance(r.snr_db, (int, float)) and math.isfinite(r.snr_db)
                and SNR_PLAUSIBLE[0] <= r.snr_db <= SNR_PLAUSIBLE[1]):
            self.rejected += 1
            return False
        if r.session != self.session:        # first report, or the RX restarted
            self.session = r.session
            self.last_seq = -1
        if r.seq <= self.last_seq:
            self.ignored += 1
            return False
        self.last_seq = r.seq
        self.last_report_t = now
        self.snr = r.snr_db if self.snr is None else \
            (1 - self.alpha) * self.snr + self.alpha * r.snr_db
        return True

    # -- decisions ----------------------------------------------------------------------------
    def _best_for(self, snr: float) -> tuple[int, float]:
        keeps = range(self.min_keep, self.C + 1)
        if self.policy == "target":
            for k in keeps:
                if self.table.expected_psnr(k, snr - self.margin) >= self.target:
                    return k, self.table.expected_psnr(k, snr)
            return self.C, self.table.expected_psnr(self.C, snr)
        # budget: symbols scale with keep; the caller gives symbols per channel
        best = max((k for k in keeps if k * self._per_channel <= self.budget),
                   default=self.min_keep)
        return best, self.table.expected_psnr(best, snr)

    def decide(self, now: float, symbols_per_channel: int = 1) -> Decision:
        self._per_channel = symbols_per_channel
        if self.policy == "fixed":
            exp = self.table.expected_psnr(self.fixed_keep, self.snr) \
                if (self.table is not None and self.snr is not None) else None
            self.keep = self.fixed_keep
            return Decision(self.keep, "fixed", self.snr, exp, "fixed keep")
        stale = self.last_report_t is None or now - self.last_report_t > self.timeout_s
        if stale:
            self.keep = self.safe_keep
            self.snr_at_change = None
            why = "no report yet" if self.last_report_t is None else \
                f"no report for {now - self.last_report_t:.1f} s"
            return Decision(self.keep, self.policy, None, None, f"fallback to safe keep: {why}")
        cand, exp = self._best_for(self.snr)
        cur_exp = self.table.expected_psnr(self.keep, self.snr)
        moved = self.snr_at_change is None or abs(self.snr - self.snr_at_change) > self.hyst
        failing = self.policy == "target" and cur_exp < self.target and cand > self.keep
        if cand != self.keep and (moved or failing):
            self.keep = cand
            self.snr_at_change = self.snr
            reason = "changed: " + ("current keep misses the target" if failing and not moved
                                    else f"SNR moved beyond {self.hyst:g} dB")
            return Decision(cand, self.policy, self.snr, exp, reason)
        return Decision(self.keep, self.policy, self.snr, cur_exp, "held (hysteresis)")
