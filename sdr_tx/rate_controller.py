"""Rate controller: picks ``keep`` for each image from the receiver's latest reports.

Policies (by name): ``fixed`` (always ``fixed_keep``); ``target`` (smallest keep whose
expected PSNR at the smoothed SNR less ``margin_db`` meets ``target_psnr``, the largest if
none does); ``budget``
(best expected PSNR with at most ``budget_symbols`` JSCC symbols per image). Expected PSNR comes
from a :class:`calibration.rate_table.RateTable` of the same model, or, per image, from an
:class:`ImageTable`: the model's own prediction for that image's content (SoftCast's exact
expected LLSE error), so the ``target`` policy meets its target image by image rather than on
average. A per-image decision skips the hysteresis (the content changes every image); an image
that cannot reach the target at any keep gets full keep, said in the decision ("best effort").

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
# the closed loop's defaults, declared once: the controller, the rate-control block, its
# .block.yml and the CLI's options take them from here
DEFAULT_POLICY = "target"
DEFAULT_TARGET_PSNR = 25.0
DEFAULT_MARGIN_DB = 0.5
DEFAULT_FEEDBACK_TIMEOUT_S = 3.0
SNR_PLAUSIBLE = (-20.0, 60.0)


@dataclass
class Report:
    seq: int                 # the RX's report counter
    snr_est_db: float        # estimated SNR of a frame (product convention)
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


class ImageTable:
    """Expected PSNR of one image at any keep and SNR, predicted by the codec from the image
    (``codec.expected_psnr``), computed when asked and cached. Quality rises with keep, so
    :meth:`smallest_keep` bisects (about 5 predictions instead of one per keep)."""

    def __init__(self, codec, image):
        self.codec, self.image = codec, image
        self._cache: dict[tuple[int, float], float] = {}

    def expected_psnr(self, keep: int, snr_db: float) -> float:
        key = (int(keep), round(float(snr_db), 3))
        if key not in self._cache:
            self._cache[key] = float(self.codec.expected_psnr(self.image, key[1], [key[0]])[0])
        return self._cache[key]

    def smallest_keep(self, keeps: range, target: float, snr_db: float) -> int | None:
        lo, hi = keeps.start, keeps.stop - 1
        if self.expected_psnr(hi, snr_db) < target:
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            if self.expected_psnr(mid, snr_db) >= target:
                hi = mid
            else:
                lo = mid + 1
        return lo


class RateController:
    def __init__(self, channels: int, policy: str = DEFAULT_POLICY, table=None,
                 target_psnr: float = DEFAULT_TARGET_PSNR, budget_symbols: int = 0,
                 fixed_keep: int = 0,
                 safe_keep: int = 0, alpha: float = 0.5, hysteresis_db: float = 1.0,
                 timeout_s: float = 5.0, min_keep: int | None = None,
                 margin_db: float = DEFAULT_MARGIN_DB, per_image: bool = False):
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r}; one of {', '.join(POLICIES)}")
        if policy == "budget" and table is None or \
                policy == "target" and table is None and not per_image:
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
        if not (isinstance(r.snr_est_db, (int, float)) and math.isfinite(r.snr_est_db)
                and SNR_PLAUSIBLE[0] <= r.snr_est_db <= SNR_PLAUSIBLE[1]):
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
        self.snr = r.snr_est_db if self.snr is None else \
            (1 - self.alpha) * self.snr + self.alpha * r.snr_est_db
        return True

    # -- decisions ----------------------------------------------------------------------------
    def keeps(self) -> range:
        return range(self.min_keep, self.C + 1)

    def _best_for(self, snr: float, table) -> tuple[int, float]:
        keeps = self.keeps()
        if self.policy == "target" and isinstance(table, ImageTable):
            k = table.smallest_keep(keeps, self.target, snr - self.margin)
            k = self.C if k is None else k
            return k, table.expected_psnr(k, snr)
        if self.policy == "target":
            for k in keeps:
                if table.expected_psnr(k, snr - self.margin) >= self.target:
                    return k, table.expected_psnr(k, snr)
            return self.C, table.expected_psnr(self.C, snr)
        # budget: symbols scale with keep; the caller gives symbols per channel
        best = max((k for k in keeps if k * self._per_channel <= self.budget),
                   default=self.min_keep)
        return best, table.expected_psnr(best, snr)

    def decide(self, now: float, symbols_per_channel: int = 1, table=None) -> Decision:
        """``table``: a per-image :class:`ImageTable` for this decision (``target`` policy)."""
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
        if table is not None and self.policy == "target":
            cand, exp = self._best_for(self.snr, table)
            self.keep = cand
            reached = table.expected_psnr(cand, self.snr - self.margin) >= self.target
            return Decision(cand, self.policy, self.snr, exp,
                            "per image: smallest keep meeting the target" if reached else
                            "per image: target unreachable, best effort (full keep)")
        cand, exp = self._best_for(self.snr, self.table)
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
