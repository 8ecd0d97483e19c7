"""The OFDM receive path on a raw IQ stream, as a plain class (the GNU Radio block wraps it).

``StreamReceiver.push(samples)`` takes complex64 IQ in arbitrary chunks and returns the frames
completed so far as :class:`Frame` records: the header, the deinterleaved payload symbols and
their post-equalisation noise variance, the SNR estimate, CFO and timing. It sees raw IQ only.
Everything else (false alarms, CRC failures, frames from another model) is dropped, counted
and logged through :class:`sdr_rx.framelog.FrameLog`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sdr_rx import equalizer as eq
from sdr_rx import sync
from semcom import interleave
from semcom import numerology as nm
from semcom.header import Header, HeaderError
from semcom.viterbi import decode_header_symbols

HEADER_SPAN = sync.LTF_BODY0 + (2 + nm.HEADER_SYMBOLS) * nm.SYM_LEN  # from STF start
MIN_LTF_QUALITY = sync.MIN_LTF_QUALITY
MAX_BUFFER = 1 << 22
MIN_SCAN = 1 << 10      # the detector scans this many samples per step after a frame or a
MAX_SCAN = 1 << 15      # trigger, doubling up to MAX_SCAN while it finds nothing (the metric
                        # past a trigger lies inside the frame: computing it is wasted)
LTF_SEARCH = 64         # the LTF is searched this far either side of where the STF puts it
LEAD_IN = 128
# A sample with a component beyond this is as unusable as NaN or Inf: the detector's float32
# products of two such samples would overflow to Inf and poison its running sums (full scale
# is 1.0; a file or socket in other units stays far below this).
MAX_ABS = 1e15
MIN_PILOT_PRESENCE = 0.4
_PERMS: dict[int, np.ndarray] = {}


def _deinterleave(y: np.ndarray) -> np.ndarray:
    """:func:`semcom.interleave.deinterleave` with the permutation computed once per length."""
    perm = _PERMS.get(len(y))
    if perm is None:
        perm = _PERMS[len(y)] = interleave.permutation(len(y))
    out = np.empty_like(y)
    out[perm] = y
    return out


@dataclass
class Frame:
    header: Header
    symbols: np.ndarray       # complex64 (payload_len,), deinterleaved
    noise_var: np.ndarray     # float32 (payload_len,)
    snr_db: float             # estimate, product convention
    noise_var_mean: float
    cfo_hz: float
    start: int                # absolute sample index of the first LTF body
    ltf_quality: float
    # with StreamReceiver.keep_spectra (datasets): the payload's CFO-corrected spectra before
    # equalisation, (OFDM symbols, 52 used carriers), and the channel estimate (52,)
    spectra: np.ndarray | None = None
    channel: np.ndarray | None = None

    def log_fields(self) -> dict:
        if "_hdr_dict" not in self.__dict__:     # once per frame
            self.__dict__["_hdr_dict"] = self.header.to_dict()
        return {**self.__dict__["_hdr_dict"], "snr_est_db": round(self.snr_db, 3),
                "noise_var": float(f"{self.noise_var_mean:.6g}"),   # float32 sums: last bits
                # depend on how the stream was chunked, 6 digits do not
                "cfo_hz": round(self.cfo_hz, 1),
                "timing": self.start, "ltf_quality": round(self.ltf_quality, 3)}


class StreamReceiver:
    def __init__(self, samp_rate: float = 1e6, model_id: int | None = None, log=None,
                 threshold: float = sync.THRESHOLD, snr_correction=None):
        from sdr_rx.framelog import FrameLog

        self.samp_rate = float(samp_rate)
        self.model_id = model_id
        self.log = log or FrameLog()
        self.threshold = threshold
        self.snr_correction = snr_correction   # callable raw estimate -> calibrated (dB)
        self.keep_spectra = False   # frames carry spectra and channel estimate (datasets)
        # A little silence before the first sample, so a burst at sample 0 still has the
        # samples the sync window looks back on.
        self.buf = np.zeros(LEAD_IN, np.complex64)
        self.base = -LEAD_IN   # absolute index of buf[0]
        self.search = -LEAD_IN  # absolute index where the detector resumes
        self.pending = None     # a frame whose header decoded, waiting for its payload
        self._warned_nonfinite = False
        self._drain_limit = None  # during drain(): where the real input ended (+ slack)
        self._scan = MIN_SCAN     # samples the detector scans in its next step
        self._drain_end = None

    # -- buffer ---------------------------------------------------------------------------
    def _rel(self, absolute: int) -> int:
        return absolute - self.base

    def _trim(self) -> None:
        keep_from = self.search - 64
        if keep_from > self.base:
            self.buf = self.buf[self._rel(keep_from):]
            self.base = keep_from
        if len(self.buf) > MAX_BUFFER:  # never grow without bound on garbage input
            drop = len(self.buf) - MAX_BUFFER
            self.buf = self.buf[drop:]
            self.base += drop
            self.search = max(self.search, self.base)

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def sanitise(self, x: np.ndarray) -> np.ndarray:
        """NaN, Inf and absurdly large samples -> 0, counted (``nonfinite_samples``) and
        logged, so that one of them cannot poison the detector's running sums and cost the
        frames that follow (vectorised over the block; a clean block is not copied)."""
        v = x.view(np.float32)
        if len(v) and float(np.max(v)) <= MAX_ABS and float(np.min(v)) >= -MAX_ABS:
            return x        # clean (a NaN fails both comparisons): two reductions, no copy
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~(np.abs(x.real) <= MAX_ABS) | ~(np.abs(x.imag) <= MAX_ABS)
        if not bad.any():
            return x
        n = int(np.count_nonzero(bad))
        first = self.end + int(np.argmax(bad))
        self.log.count("nonfinite_samples", n)
        if not self._warned_nonfinite:          # one line; the rest are counted
            self._warned_nonfinite = True
            self.log.event("nonfinite", at=first, samples=n)
            msg = (f"replaced {n} NaN, Inf or huge (> {MAX_ABS:g}) IQ samples with 0 (first at "
                   f"{first}; later ones are counted as nonfinite_samples)")
            logger = getattr(self.log, "logger", None)
            (logger.warn if logger is not None else logging.getLogger("semcom.rx").warning)(msg)
        return np.where(bad, np.complex64(0), x)

    def push(self, samples: np.ndarray) -> list[Frame]:
        x = self.sanitise(np.asarray(samples, dtype=np.complex64))
        self.buf = np.concatenate([self.buf, x])
        frames = []
        while True:
            status, frame = self._step()
            if frame is not None:
                frames.append(frame)
            if status == "wait":
                break
        self._trim()
        return frames

    # -- one detection attempt -------------------------------------------------------------
    def _step(self):
        if self.pending is not None:
            if self._drain_limit is not None and self.pending["frame_end"] > self._drain_limit:
                self._truncate_pending()         # the input ended inside this frame
                return "go", None
            if self.end < self.pending["frame_end"]:
                return "wait", None
            self.log.count("detected")
            frame = self._finish(**self.pending)
            self.pending = None
            return "go", frame
        lag, win = nm.STF_PERIOD, sync.WINDOW
        overlap = win + lag + sync.MIN_RUN + 64
        seg = self.buf[self._rel(self.search):self._rel(self.search) + self._scan]
        if len(seg) < overlap:
            return "wait", None
        Ms = sync.strided_metric(seg)
        k = sync.find_burst(Ms, 0, self.threshold, sync.MIN_RUN_STRIDED)
        if k is None:
            self.search += sync.STRIDE * max(len(Ms) - sync.MIN_RUN_STRIDED, 1)
            if len(seg) < self._scan:
                return "wait", None
            self._scan = min(2 * self._scan, MAX_SCAN)
            return "go", None
        self._scan = MIN_SCAN
        a = self.search + sync.STRIDE * k
        if self.end < a + 2 * sync.PEAK_SPAN + HEADER_SPAN + 2 * nm.SYM_LEN:
            # come back with the whole header in the buffer; resume at the trigger (same
            # stride grid), not before it
            self.search = max(self.search, a - sync.STRIDE * sync.MIN_RUN_STRIDED)
            return "wait", None
        # the metric's peak after the trigger is the STF start (to a stride: the LTF search
        # below covers it)
        m0 = max(a - 2 * sync.STRIDE, self.base)
        span = a - m0 + sync.PEAK_SPAN
        for _ in range(2):
            Mp = sync.strided_metric(self.buf[self._rel(m0):self._rel(m0) + span + win + lag])
            peak = sync.STRIDE * int(np.argmax(Mp[:span // sync.STRIDE + 1]))
            if peak < span - 2 * sync.STRIDE:
                break
            # still rising at the span's end: the trigger was noise just before a preamble
            m0, span = m0 + peak - 2 * sync.STRIDE, sync.PEAK_SPAN
        stf0 = m0 + peak
        cfo = sync.stf_cfo(self.buf, self._rel(stf0), 0.0, lags=(lag,) + sync.CFO_LAGS)
        lo = stf0 - 64                   # phase reference of every rotation of this frame
        # timing: the LTF correlation, on the LTF's neighbourhood only
        t_lo = stf0 + sync.LTF_BODY0 - LTF_SEARCH
        xl = sync.rotate(self.buf[self._rel(t_lo):self._rel(t_lo) + 2 * LTF_SEARCH + nm.FFT_LEN
                                  + nm.SYM_LEN], cfo, t_lo - lo)
        ltf1, quality = sync.ltf_timing(xl, LTF_SEARCH, search=LTF_SEARCH)
        ltf1 += t_lo
        if quality < MIN_LTF_QUALITY:
            # a trigger the LTF did not confirm: on noise this happens tens of times a second
            # by design (the trigger's threshold is low), so it is counted, not logged per event
            self.log.count("sync_fail")
            self.search = a + nm.SYM_LEN
            return "go", None
        # the STF's position is now known: lag 64 over all of it, then the two LTF copies
        if ltf1 - sync.LTF_BODY0 >= self.base:
            cfo = sync.stf_cfo(self.buf, self._rel(ltf1 - sync.LTF_BODY0), cfo,
                               lags=(sync.MID_LAG,), span=sync.STF_LEN)
        start_abs = ltf1 - sync.TIMING_BACKOFF
        cfo = sync.stf_cfo(self.buf, self._rel(start_abs), cfo, lags=(nm.SYM_LEN,),
                           span=nm.FFT_LEN + nm.SYM_LEN)
        body0 = start_abs - lo
        hdr_end = start_abs + (2 + nm.HEADER_SYMBOLS) * nm.SYM_LEN
        cp = nm.CP_LEN                   # symbols with their cyclic prefixes: an FFT view
        x = sync.rotate(self.buf[self._rel(start_abs - cp):self._rel(hdr_end - cp)], cfo,
                        body0 - cp)
        Y = eq.fft_symbols(x, cp, 2 + nm.HEADER_SYMBOLS)
        est = eq.estimate_ltf(Y[:2])
        soft, ph = eq.header_soft(Y[2:], est)
        cfo_hz = cfo * self.samp_rate
        try:
            header, _, hdr_symbols = decode_header_symbols(soft)
        except HeaderError as exc:
            self.log.count("detected")
            self.log.count("crc_fail")
            self.log.event("crc_fail", at=start_abs, reason=str(exc),
                           cfo_hz=round(cfo_hz, 1), snr_ltf_db=round(est.snr_db, 2))
            self.search = max(a + nm.SYM_LEN, start_abs - sync.LTF_BODY0 + nm.SYM_LEN)
            return "go", None
        n_pay = -(-header.payload_len // nm.N_DATA)
        frame_end = start_abs + (2 + nm.HEADER_SYMBOLS + n_pay) * nm.SYM_LEN
        if self.model_id is not None and header.model_id != self.model_id:
            self.log.count("detected")
            self.log.count("model_mismatch")
            self.log.event("model_mismatch", at=start_abs, **header.to_dict(),
                           expected=f"{self.model_id:08x}")
            self.search = frame_end
            return "go", None
        self.pending = {"lo": lo, "cfo": cfo, "body0": body0, "header": header,
                        "quality": quality, "frame_end": frame_end,
                        "hdr_symbols": hdr_symbols, "taps": est.taps, "ramp": est.ramp,
                        "Y_hdr": Y}
        return "go", None

    def _finish(self, lo, cfo, body0, header, quality, frame_end, hdr_symbols,
                taps, ramp, Y_hdr) -> Frame | None:
        """Equalise a frame whose samples are all in the buffer."""
        # the payload, CFO-corrected with the header pass's phase reference (sample lo)
        p0 = lo + body0 + (2 + nm.HEADER_SYMBOLS) * nm.SYM_LEN
        cp = nm.CP_LEN
        xp = sync.rotate(self.buf[self._rel(p0 - cp):self._rel(frame_end - cp)], cfo,
                         p0 - cp - lo)
        n_pay = -(-header.payload_len // nm.N_DATA)
        Yp = eq.fft_symbols(xp, cp, n_pay)
        Yl, Yh = Y_hdr[:2], Y_hdr[2:]
        est, ph_hdr = eq.refine(Yl, Yh, hdr_symbols, taps, ramp)   # = encode_header(header)
        X, err, ph, z = eq.equalize_payload(Yp, est, nm.HEADER_SYMBOLS, ph_hdr)
        snr_raw = est.snr_db
        presence, window = eq.pilot_presence(z, est.H, ph, 10 ** (snr_raw / 10))
        if presence < MIN_PILOT_PRESENCE:
            self.log.count("truncated")
            self.log.event("truncated", at=lo + body0, reason="payload pilots missing",
                           pilot_presence=round(presence, 3), window=window,
                           **header.to_dict())
            self.search = lo + body0 + nm.SYM_LEN
            return None
        pay = X.reshape(-1)[:header.payload_len]
        nv = err.reshape(-1)[:header.payload_len]
        snr = self.snr_correction(snr_raw) if self.snr_correction else snr_raw
        frame = Frame(header, _deinterleave(pay), _deinterleave(nv),
                      snr, est.noise_var / max(np.mean(np.abs(est.H) ** 2), 1e-30),
                      cfo * self.samp_rate, lo + body0, quality)
        if self.keep_spectra:
            frame.spectra = Yp[:, eq.USED].astype(np.complex64)
            frame.channel = np.asarray(est.H, np.complex64)
        self.log.count("frames_decoded")
        self.log.event("frame", decision="decoded", snr_est_raw_db=round(snr_raw, 3),
                       **frame.log_fields())
        self.search = frame_end
        return frame

    def drain(self, max_missing: int = 32) -> list[Frame]:
        """At the end of a finite input: complete a last frame that lacks at most
        ``max_missing`` samples (a file cut right after the burst, a resampler's lost tail)
        with silence; a frame that is shorter is dropped and counted as truncated. A burst
        that began too close to the end to be examined is examined (with silence after it)."""
        frames = self.push(np.zeros(0, np.complex64))
        self._drain_end = self.end
        self._drain_limit = self.end + max_missing
        try:
            frames += self.push(np.zeros(2 * sync.PEAK_SPAN + HEADER_SPAN + 3 * nm.SYM_LEN,
                                         np.complex64))
            if self.pending is not None:
                self._truncate_pending()
        finally:
            self._drain_limit = None
        return frames

    def _truncate_pending(self) -> None:
        """Drop the pending frame: the input ended inside it (counted, logged)."""
        self.log.count("truncated")
        self.log.event("truncated", at=self.pending["frame_end"],
                       missing=self.pending["frame_end"] - min(self._drain_end, self.end),
                       **self.pending["header"].to_dict())
        self.search = self.pending["frame_end"]
        self.pending = None
