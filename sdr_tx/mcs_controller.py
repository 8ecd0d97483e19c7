"""``--mcs auto``: the digital scheme's MCS per image from the receiver's feedback reports.

The same machinery as the JSCC loop (:class:`sdr_tx.rate_controller.RateController` takes the
reports: implausible SNRs rejected, old or duplicate reports ignored, a restarted RX followed,
the SNR smoothed); the decision is the fastest MCS whose decoding threshold, measured through
the PHY (:func:`semcom.mcs.thresholds`, 1% codeword loss), plus ``margin_db`` is at most the
smoothed SNR. Without a report (or none for ``timeout_s``) it falls back to the most robust MCS
and says so; the hysteresis keeps the MCS unless the SNR moved by more than ``hysteresis_db``
or the current MCS no longer clears its threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sdr_tx.rate_controller import RateController, Report
from semcom import mcs


@dataclass
class McsDecision:
    mcs: str
    snr_used_db: float | None
    threshold_db: float
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


class McsController:
    def __init__(self, thresholds: dict[str, float] | None = None, margin_db: float = 1.0,
                 alpha: float = 0.5, hysteresis_db: float = 1.0, timeout_s: float = 5.0):
        self.th = thresholds or mcs.thresholds()
        missing = [n for n in mcs.NAMES if n not in self.th]
        if missing:
            raise ValueError(f"no threshold for MCS {', '.join(missing)}")
        self.margin = margin_db
        self.hyst = hysteresis_db
        self.reports = RateController(len(mcs.TABLE), "fixed", alpha=alpha,
                                      timeout_s=timeout_s)
        self.current = mcs.TABLE[0]
        self.snr_at_change: float | None = None

    def on_report(self, r: Report, now: float) -> bool:
        return self.reports.on_report(r, now)

    def best_for(self, snr_db: float) -> mcs.MCS:
        ok = [m for m in mcs.TABLE if self.th[m.name] + self.margin <= snr_db]
        return max(ok, key=lambda m: m.bits_per_symbol) if ok else mcs.TABLE[0]

    def decide(self, now: float) -> McsDecision:
        rc = self.reports
        if rc.last_report_t is None or now - rc.last_report_t > rc.timeout_s:
            self.current, self.snr_at_change = mcs.TABLE[0], None
            why = "no report yet" if rc.last_report_t is None else \
                f"no report for {now - rc.last_report_t:.1f} s"
            return McsDecision(self.current.name, None, self.th[self.current.name],
                               f"fallback to the most robust MCS: {why}")
        snr = rc.snr
        cand = self.best_for(snr)
        moved = self.snr_at_change is None or abs(snr - self.snr_at_change) > self.hyst
        failing = self.th[self.current.name] + self.margin > snr
        if cand != self.current and (moved or failing):
            self.current, self.snr_at_change = cand, snr
            return McsDecision(cand.name, snr, self.th[cand.name],
                               "changed: " + ("current MCS above its threshold" if failing
                                              and not moved else
                                              f"SNR moved beyond {self.hyst:g} dB"))
        return McsDecision(self.current.name, snr, self.th[self.current.name],
                           "held (hysteresis)")
