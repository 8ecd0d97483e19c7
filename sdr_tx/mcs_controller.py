"""``--mcs auto``: the digital scheme's MCS per image from the receiver's feedback reports.

The same machinery as the JSCC loop (:class:`sdr_tx.rate_controller.RateController` takes the
reports: implausible SNRs rejected, old or duplicate reports ignored, a restarted RX followed,
the SNR smoothed); the decision is the fastest MCS whose decoding threshold, measured through
the PHY on AWGN (:func:`semcom.mcs.thresholds`, 1% codeword loss), plus ``margin_db`` plus the
outer loop's offset is at most the smoothed SNR. Without a report (or none for ``timeout_s``)
it falls back to the most robust MCS and says so; the hysteresis keeps the MCS unless the SNR
moved by more than ``hysteresis_db`` or the current MCS no longer clears its threshold (the
SNR less the outer loop's offset: a falling offset brings the faster MCS back as a rising SNR
does).

Outer-loop link adaptation (OLLA): the thresholds are AWGN's, and a frequency-selective
channel needs more SNR for the same MCS (about 4 dB on the ``incp`` profile: the reported SNR
is the mean over the carriers, the code sees the faded ones). Each image's outcome, reported by
the RX (:attr:`semcom.report.FeedbackReport.lost`: a codeword failed its CRC or a frame never
came), moves an offset added to every threshold: up by ``olla_step_db`` on a lost image, down
by ``olla_step_db * target / (1 - target)`` on a decoded one, bounded to ``olla_bounds_db``.
In steady state the offset settles where a fraction ``olla_target`` of images is lost (10%:
one loss per nine decoded images), whatever the channel's profile. An outcome counts once per
image and session (a repeated report is ignored); one for an image sent before the RX
restarted still counts (the channel did it). A loss while the controller is at the most robust
MCS leaves the offset alone (there is no slower MCS; a raised offset would only hold the link
back once the channel recovers). ``olla_step_db=0`` turns the outer loop off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sdr_tx.rate_controller import RateController, Report
from semcom import mcs

OLLA_STEP_DB = 2.0           # up on a lost image (images are few: a fast back-off)
OLLA_TARGET = 0.1            # the image loss the outer loop aims at
OLLA_BOUNDS_DB = (-1.0, 12.0)   # down to the bare threshold (margin 1 dB)


@dataclass
class McsDecision:
    mcs: str
    snr_used_db: float | None
    threshold_db: float
    reason: str
    olla_offset_db: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class McsController:
    def __init__(self, thresholds: dict[str, float] | None = None, margin_db: float = 1.0,
                 alpha: float = 0.5, hysteresis_db: float = 1.0, timeout_s: float = 5.0,
                 olla_step_db: float = OLLA_STEP_DB, olla_target: float = OLLA_TARGET,
                 olla_bounds_db: tuple[float, float] = OLLA_BOUNDS_DB):
        self.th = thresholds or mcs.thresholds()
        missing = [n for n in mcs.NAMES if n not in self.th]
        if missing:
            raise ValueError(f"no threshold for MCS {', '.join(missing)}")
        if not 0.0 < olla_target < 1.0:
            raise ValueError(f"OLLA target image loss {olla_target!r}: between 0 and 1")
        if olla_step_db < 0 or olla_bounds_db[0] > 0 or olla_bounds_db[1] < 0:
            raise ValueError("OLLA step must be >= 0 and its bounds must bracket 0 dB")
        self.margin = margin_db
        self.hyst = hysteresis_db
        self.reports = RateController(len(mcs.TABLE), "fixed", alpha=alpha,
                                      timeout_s=timeout_s)
        self.current = mcs.TABLE[0]
        self.snr_at_change: float | None = None
        self.step_up = float(olla_step_db)
        self.step_down = float(olla_step_db) * olla_target / (1.0 - olla_target)
        self.bounds = (float(olla_bounds_db[0]), float(olla_bounds_db[1]))
        self.offset = 0.0
        self.outcomes = {"decoded": 0, "lost": 0, "repeated": 0}
        self._seen: dict[tuple[str, int], bool] = {}

    def on_report(self, r: Report, now: float) -> bool:
        return self.reports.on_report(r, now)

    def on_outcome(self, image_id: int, lost: bool, session: str = "") -> bool:
        """One image's outcome from the RX: moves the OLLA offset. False for a repeat."""
        key = (str(session), int(image_id))
        if key in self._seen:
            self.outcomes["repeated"] += 1
            return False
        if len(self._seen) > 4096:                  # a long run: forget the oldest
            self._seen.pop(next(iter(self._seen)))
        self._seen[key] = bool(lost)
        self.outcomes["lost" if lost else "decoded"] += 1
        if lost and self.current == mcs.TABLE[0]:
            return True          # no slower MCS to go to: raising the offset would only
            #                      delay the way back up once the channel recovers
        step = self.step_up if lost else -self.step_down
        self.offset = min(self.bounds[1], max(self.bounds[0], self.offset + step))
        return True

    def needed_db(self, m: mcs.MCS) -> float:
        """The smoothed SNR this MCS needs now: AWGN threshold + margin + OLLA offset."""
        return self.th[m.name] + self.margin + self.offset

    def best_for(self, snr_db: float) -> mcs.MCS:
        ok = [m for m in mcs.TABLE if self.needed_db(m) <= snr_db]
        return max(ok, key=lambda m: m.bits_per_symbol) if ok else mcs.TABLE[0]

    def decide(self, now: float) -> McsDecision:
        rc = self.reports
        off = round(self.offset, 3)
        if rc.last_report_t is None or now - rc.last_report_t > rc.timeout_s:
            self.current, self.snr_at_change = mcs.TABLE[0], None
            why = "no report yet" if rc.last_report_t is None else \
                f"no report for {now - rc.last_report_t:.1f} s"
            return McsDecision(self.current.name, None, self.th[self.current.name],
                               f"fallback to the most robust MCS: {why}", off)
        snr = rc.snr
        cand = self.best_for(snr)
        eff = snr - self.offset          # the hysteresis sees the offset move like the SNR
        moved = self.snr_at_change is None or abs(eff - self.snr_at_change) > self.hyst
        failing = self.needed_db(self.current) > snr
        if cand != self.current and (moved or failing):
            self.current, self.snr_at_change = cand, eff
            return McsDecision(cand.name, snr, self.th[cand.name],
                               "changed: " + ("current MCS above its threshold" if failing
                                              and not moved else
                                              f"SNR less offset moved beyond {self.hyst:g} "
                                              "dB"), off)
        return McsDecision(self.current.name, snr, self.th[self.current.name],
                           "held (hysteresis)", off)
