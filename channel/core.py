"""The channel emulator's signal processing: deterministic, seeded impairments on IQ blocks.

:class:`ChannelCore` takes complex64 IQ in any chunking and returns the impaired IQ. Every
random process is keyed by the seed and the *absolute* sample index (noise in fixed blocks of
``NOISE_BLOCK`` samples, fading by sum of sinusoids in absolute time), so the same seed, input
and schedule give bit-identical output however the stream is cut into chunks.

Order: multipath (static or Rayleigh/Rician-faded taps, Doppler) -> sample-rate / timing offset
(windowed-sinc resampling) -> carrier offset and phase noise -> IQ imbalance -> DC offset ->
PA clipping -> AWGN. The noise level follows the product's SNR convention for a TX at
``tx_rms`` (:func:`semcom.numerology.noise_voltage_for_snr`).

SNR changes (schedule or runtime control) take effect at the start of a burst (the TX's bursts
are separated by zero guards, so starts are found exactly in the clean input), so each frame
meets one SNR; each burst's header is read from the clean input to know its image and frame
(for image- and frame-indexed traces) and the true SNR is recorded per frame.

Zero runs inside a burst (a real-time source's fill while the TX was late) are removed before
anything else (:meth:`ChannelCore._unfill`), so a burst always leaves in one piece; between
bursts they stay. Every setting is checked against :data:`channel.impairments.LIMITS` (finite,
in range).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from channel.impairments import Settings
from channel.schedules import Schedule
from semcom import numerology as nm
from semcom.ofdm import DEFAULT_SAMP_RATE, HEADER_SPAN, read_clean_header
from semcom.profiles import profile_powers

NOISE_BLOCK = 4096
QUIET = 32          # zero samples that separate bursts in the TX's output
SINC_HALF = 16      # Lanczos interpolation, 32 taps: -0.02 dB at the outer carriers (8 taps: -2.4)
MAX_RECORDS = 20000  # burst records kept in memory (the truth log has them all)
FADE_STEP = 32      # fading gains computed every 32 samples, interpolated in between
FILL_MIN_RUN = 2     # zero samples in a row inside a burst that can only be a source's fill
FILL_MAX_GAP_S = 0.2  # a longer gap inside a burst ends it (the rest never came)
UNFILL_WINDOW = 1 << 16


# -- the core ----------------------------------------------------------------------------------
def _lanczos(frac: np.ndarray) -> np.ndarray:
    """(N,) fractional offsets -> (N, 8) interpolation weights."""
    k = np.arange(-SINC_HALF + 1, SINC_HALF + 1)[None, :] - frac[:, None]
    w = np.sinc(k) * np.sinc(k / SINC_HALF)
    return w / w.sum(axis=1, keepdims=True)


@dataclass
class BurstRecord:
    burst: int
    start: int
    snr_db: float | None
    image_id: int | None = None
    frame_idx: int | None = None
    seq: int | None = None
    extra: dict = field(default_factory=dict)


class ChannelCore:
    def __init__(self, settings: Settings | None = None, seed: int = 0,
                 samp_rate: float = DEFAULT_SAMP_RATE, tx_rms: float = nm.DEFAULT_TX_RMS,
                 schedule: Schedule | None = None, on_burst=None):
        self.s = settings or Settings()
        self.seed = int(seed)
        self.fs = float(samp_rate)
        self.tx_rms = float(tx_rms)
        self.schedule = schedule
        self.on_burst = on_burst
        self.lock = threading.Lock()
        self.pending: dict = {}         # runtime changes, applied at the next burst start
        self.n_in = 0                   # absolute input index of the next input sample
        self.n_out = 0                  # absolute output index of the next output sample
        self.zeros_run = QUIET          # zero samples seen just before n_in
        self.burst = -1
        self.snr_now = self.s.snr_db
        self.bursts: list[BurstRecord] = []
        self.fir_hist = np.zeros(0, np.complex64)
        self.rs_buf = np.zeros(0, np.complex64)   # resampler input, abs index rs_base
        self.rs_base = -SINC_HALF
        self.rs_on = False                        # resampler in use since rs_k0
        self.rs_tail = np.zeros(0, np.complex64)  # last input while it was off
        self.rs_k0, self.rs_p0, self.rs_ratio = 0, 0.0, 1.0   # output rs_k0 reads rs_p0
        self.phase_noise = 0.0
        self.hold = np.zeros(0, np.complex64)     # a burst start whose header is incomplete
        # fill removal (see _unfill): raw input not decided yet, the state of the burst it is
        # in (0: between bursts, -1: header not read yet, n > 0: n samples of it to come)
        self.uf_pend = np.zeros(0, np.complex64)
        self.uf_left = 0
        self.uf_zeros = QUIET
        self.uf_max_gap = max(4096, int(FILL_MAX_GAP_S * self.fs))
        self.uf_emitted = 0             # samples _unfill has passed on (the core's n_in)
        self.uf_headers: dict = {}      # burst start (core input index) -> header read there
        self.fill_dropped = 0           # fill samples removed from inside bursts
        self._noise_cache: dict = {}    # (block, real) -> the block's noise (see _noise_block)
        self.bursts_cut = 0             # bursts whose rest never came (a gap > uf_max_gap)

    # -- control ------------------------------------------------------------------------------
    def request(self, changes: dict) -> int:
        """Queue changes; they apply at the next burst start. -> that burst's number."""
        Settings().update(changes, self.fs)  # validate now: a bad name or value raises
        with self.lock:
            self.pending.update(changes)
            return self.burst + 1

    def snapshot(self) -> dict:
        with self.lock:
            return {**asdict(self.s), "snr_now_db": self.snr_now, "burst": self.burst,
                    "samples_in": self.n_in, "samples_out": self.n_out,
                    "fill_dropped": self.fill_dropped, "bursts_cut": self.bursts_cut,
                    "time_domain_snr_db": (None if self.snr_now is None else
                                           nm.time_domain_snr_db(self.snr_now))}

    # -- processing ---------------------------------------------------------------------------
    def process(self, x: np.ndarray) -> np.ndarray:
        """Impair the next input samples; returns the output produced so far. A burst whose
        header is not complete yet is held back until it is (its SNR may depend on it)."""
        buf = np.concatenate([self.hold, self._unfill(np.asarray(x, dtype=np.complex64))])
        starts = self._starts(buf, self.zeros_run)
        cut = len(buf)
        if starts and len(buf) - starts[-1] < HEADER_SPAN:
            cut = starts[-1]
        self.hold = buf[cut:]
        return self._process(buf[:cut])

    def _unfill(self, x: np.ndarray) -> np.ndarray:
        """Remove fill from inside bursts: runs of >= FILL_MIN_RUN zero samples between the
        first and the last sample of a burst whose header reads (its length is in it).

        A real-time source emits zeros whenever its input is late (the air never stops), also
        in the middle of a burst when the TX delivers it in pieces; left in, they cut the burst
        in two and its frame is lost. Our bursts hold no zero sample (the TX's level block
        puts 1e-20 where the IFFT gives an exact zero; recordings of older TXs hold single
        ones, hence runs of at least two), so such a run inside one is fill. Zeros between
        bursts pass untouched; a burst whose header does not read (not ours) passes
        untouched; a gap longer than ``uf_max_gap`` ends the burst (its rest never came). The
        decision needs the samples after a zero run: undecided input is held back (output
        is delayed, never reordered or lost). Without fill this is the identity."""
        data = np.concatenate([self.uf_pend, x]) if len(self.uf_pend) else x
        out, i, n = [], 0, len(data)
        if len(self.uf_headers) > 64:     # headers the core never asked for (cannot happen)
            self.uf_headers.clear()
        while i < n:
            if self.uf_left == 0:                       # between bursts: find the next start
                chunk = data[i:i + UNFILL_WINDOW]
                st = self._starts(chunk, self.uf_zeros)
                if not st:
                    nz = np.flatnonzero(chunk != 0)
                    self.uf_zeros = (len(chunk) - 1 - int(nz[-1])) if nz.size \
                        else self.uf_zeros + len(chunk)
                    out.append(chunk)
                    i += len(chunk)
                    continue
                out.append(chunk[:st[0]])
                i += st[0]
                self.uf_left, self.uf_zeros = -1, 0
                continue
            need = HEADER_SPAN if self.uf_left < 0 else self.uf_left
            w = 2 * need + UNFILL_WINDOW
            while True:                 # a window of the input that holds the rest of the burst
                seg = data[i:i + w]
                if i + w >= n or np.count_nonzero(seg) > need + 2 * FILL_MIN_RUN:
                    break
                w *= 4
            z = (seg == 0).view(np.int8)
            e = np.diff(np.concatenate([[0], z, [0]]))
            ra = np.flatnonzero(e == 1)
            rl = np.flatnonzero(e == -1) - ra
            open_tail = bool(ra.size) and ra[-1] + rl[-1] == len(seg)
            decided = int(ra[-1]) if open_tail else len(seg)
            fill = rl >= FILL_MIN_RUN
            if open_tail:
                fill[-1] = False
            keep = np.ones(decided, bool)
            for a, ln in zip(ra[fill], rl[fill], strict=True):   # per run, not per sample
                keep[a:a + ln] = False
            kp = np.flatnonzero(keep)
            long_runs = ra[fill & (rl > self.uf_max_gap)]
            end = int(kp[need - 1]) if len(kp) >= need else None
            cut = None
            if long_runs.size and (end is None or long_runs[0] < end):
                cut = int(long_runs[0])
            elif end is None and (open_tail and rl[-1] > self.uf_max_gap
                                  or n - i > 8 * self.uf_max_gap):
                cut = decided
            if cut is not None:                         # the rest of this burst never came
                if self.uf_left > 0:
                    out.append(seg[:cut][keep[:cut]])
                    self.fill_dropped += int(cut - keep[:cut].sum())
                    self.bursts_cut += 1
                else:
                    out.append(seg[:cut])              # header never read: leave it alone
                self.uf_left, self.uf_zeros = 0, 0
                i += cut
                continue
            if end is None:                             # wait for more of this burst
                if self.uf_left > 0:
                    out.append(seg[kp])
                    self.fill_dropped += decided - len(kp)
                    self.uf_left -= len(kp)
                    i += decided
                break
            if self.uf_left < 0:
                hdr = self._read_header(seg[kp[:need]])
                # the core reads the same header at the same place: read it once
                self.uf_headers[self.uf_emitted + sum(len(o) for o in out)] = hdr
                if hdr is None:                         # not one of ours: untouched
                    out.append(seg[:1])
                    self.uf_left, self.uf_zeros = 0, 0
                    i += 1
                    continue
                self.uf_left = nm.burst_samples(hdr.payload_len)
                continue                                # now read it with its length
            out.append(seg[kp[:need]])
            self.fill_dropped += end + 1 - need
            self.uf_left, self.uf_zeros = 0, 0
            i += end + 1
        self.uf_pend = data[i:]
        res = out[0] if len(out) == 1 else \
            np.concatenate(out) if out else np.zeros(0, np.complex64)
        self.uf_emitted += len(res)
        return res

    @staticmethod
    def _starts(x: np.ndarray, zeros_before: int) -> list[int]:
        """Burst starts: nonzero samples preceded by at least QUIET zeros."""
        idx = np.flatnonzero(np.abs(x) > 0)
        if not idx.size:
            return []
        prev = np.concatenate([[-1 - zeros_before], idx[:-1]])
        return idx[(idx - prev - 1) >= QUIET].tolist()

    def _process(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return x
        segments = self._segments(x)       # [(start, end, snr)] in this chunk's coordinates
        y = x
        if self.s.multipath:
            y = self._multipath(y)
        n0 = self.n_out
        if self.s.sro_ppm or self.s.timing_offset:
            y = self._resample(y)
        else:
            self.rs_on = False
            self.rs_tail = np.concatenate([self.rs_tail, y])[-2 * SINC_HALF:]
        self.n_in += len(x)
        if not len(y):
            return y
        n = np.arange(n0, n0 + len(y))
        if self.s.cfo_hz or self.s.phase_noise_deg:
            ph = 2 * np.pi * self.s.cfo_hz / self.fs * n
            if self.s.phase_noise_deg:
                steps = self._noise(n0, len(y), real=True) * np.deg2rad(self.s.phase_noise_deg)
                walk = self.phase_noise + np.cumsum(steps)
                self.phase_noise = float(walk[-1])
                ph = ph + walk
            y = y * np.exp(1j * ph)
        if self.s.iq_gain_db or self.s.iq_phase_deg:
            g = 10 ** (self.s.iq_gain_db / 20)
            phi = np.deg2rad(self.s.iq_phase_deg)
            i, q = y.real, y.imag
            y = i + 1j * g * (q * np.cos(phi) + i * np.sin(phi))
        if self.s.dc_offset:
            y = y + self.s.dc_offset * self.tx_rms * (1 + 1j)
        if self.s.clip:
            mag = np.abs(y)
            over = mag > self.s.clip
            y = np.where(over, y * self.s.clip / np.maximum(mag, 1e-30), y)
        y = np.asarray(y, dtype=np.complex64)
        # AWGN with the SNR of each segment (segments follow the input's burst starts)
        sigma = np.zeros(len(y), np.float32)
        scale = len(y) / len(x)
        for a, b, snr in segments:
            if snr is not None:
                sigma[int(a * scale):int(b * scale) if b < len(x) else len(y)] = \
                    nm.noise_voltage_for_snr(snr, self.tx_rms)
        if sigma.any():
            y = y + (self._noise(n0, len(y)) * sigma).astype(np.complex64)
        self.n_out = n0 + len(y)
        return y.astype(np.complex64)

    def _noise_block(self, b: int, real: bool) -> np.ndarray:
        """Noise block ``b`` (NOISE_BLOCK samples), drawn once: a real-time stream arrives in
        pieces smaller than a block (1024 samples), and drawing the whole block for each piece
        cost 4x the draws (and the generator's set-up) for the same values."""
        key = (b, real)
        blk = self._noise_cache.get(key)
        if blk is None:
            rng = np.random.default_rng([self.seed, 1 if real else 0, b])
            if real:
                blk = rng.standard_normal(NOISE_BLOCK)
            else:       # the same draws as real part then imaginary part, one call
                v = rng.standard_normal(2 * NOISE_BLOCK)
                blk = np.empty(NOISE_BLOCK, np.complex128)
                blk.real, blk.imag = v[:NOISE_BLOCK], v[NOISE_BLOCK:]
                blk /= np.sqrt(2)
            if len(self._noise_cache) >= 8:
                self._noise_cache.clear()
            self._noise_cache[key] = blk
        return blk

    def _noise(self, n0: int, count: int, real: bool = False) -> np.ndarray:
        """Unit-variance complex (or real) Gaussian noise for absolute samples n0..n0+count,
        generated in fixed blocks keyed by (seed, block) so chunking does not matter."""
        b0, b1 = n0 // NOISE_BLOCK, (n0 + count - 1) // NOISE_BLOCK
        off = n0 - b0 * NOISE_BLOCK
        if b0 == b1:
            return self._noise_block(b0, real)[off:off + count]
        blk = np.concatenate([self._noise_block(b, real) for b in range(b0, b1 + 1)])
        return blk[off:off + count]

    def _segments(self, x: np.ndarray):
        """Find burst starts in the clean input; apply pending changes and the schedule there.
        -> [(start, end, snr_db)] covering x."""
        starts = self._starts(x, self.zeros_run)
        idx = np.flatnonzero(np.abs(x) > 0)
        self.zeros_run = (len(x) - 1 - int(idx[-1])) if idx.size else self.zeros_run + len(x)
        segs, cur, a = [], self.snr_now, 0
        for st in starts:
            if st > a:
                segs.append((a, st, cur))
            cur = self._new_burst(self.n_in + st, x[st:])
            a = st
        segs.append((a, len(x), cur))
        return segs

    def _new_burst(self, start: int, head: np.ndarray):
        with self.lock:
            if self.pending:
                self.s.update(self.pending)
                self.pending = {}
                self.snr_now = self.s.snr_db
            self.burst += 1
        rec = BurstRecord(self.burst, start, None)
        hdr = self.uf_headers.pop(start) if start in self.uf_headers else self._read_header(head)
        if hdr is not None:
            rec.image_id, rec.frame_idx, rec.seq = hdr.image_id, hdr.frame_idx, hdr.seq
        if self.schedule is not None:
            t = start / self.fs
            v = self.schedule.at(self.burst, rec.image_id, rec.frame_idx, t)
            if v is not None:
                with self.lock:
                    self.snr_now = v
                    self.s.snr_db = v
        rec.snr_db = self.snr_now
        self.bursts.append(rec)
        if len(self.bursts) > MAX_RECORDS:     # a long run keeps the recent ones only
            del self.bursts[:MAX_RECORDS // 2]
        if self.on_burst:
            self.on_burst(rec)
        return self.snr_now

    @staticmethod
    def _read_header(head: np.ndarray):
        """Decode the header of a clean burst whose first sample is head[0] (None: not ours)."""
        return read_clean_header(head)

    def _multipath(self, x: np.ndarray) -> np.ndarray:
        delays, powers = profile_powers(self.s.multipath)
        L = int(delays.max()) + 1
        hist = self.fir_hist if len(self.fir_hist) == L - 1 else np.zeros(L - 1, np.complex64)
        xx = np.concatenate([hist, x])
        n = np.arange(self.n_in, self.n_in + len(x))
        y = np.zeros(len(x), np.complex128)
        gains = [self._tap_gain(i, n) * np.sqrt(p) for i, p in enumerate(powers)]
        if not self.s.fading:
            # static taps: normalise the drawn channel to unit energy, so the SNR setting
            # holds for this realisation (faded taps have unit energy on average)
            gains = [g / np.sqrt(sum(abs(h) ** 2 for h in gains)) for g in gains]
        for d, g in zip(delays, gains, strict=True):
            y += g * xx[L - 1 - d:L - 1 - d + len(x)]
        self.fir_hist = xx[len(xx) - (L - 1):] if L > 1 else np.zeros(0, np.complex64)
        return y.astype(np.complex64)

    def _tap_gain(self, i: int, n: np.ndarray) -> np.ndarray | complex:
        """Static taps: a fixed seeded complex gain per tap. Faded taps: sum of 16 sinusoids
        with Doppler ``doppler_hz`` in absolute time (Rayleigh, or Rician with K)."""
        r = np.random.default_rng([self.seed, 11, i])
        if not self.s.fading:
            return complex(r.standard_normal() + 1j * r.standard_normal()) / np.sqrt(2) \
                if i else 1.0
        M = 16
        alpha = r.uniform(0, 2 * np.pi, M)
        phi = r.uniform(0, 2 * np.pi, M)
        w = 2 * np.pi * self.s.doppler_hz * np.cos(alpha)
        # the gain changes slowly (Doppler << fs): evaluate it every FADE_STEP samples of
        # absolute time and interpolate linearly in between (deterministic, cheap)
        grid = np.arange(n[0] - n[0] % FADE_STEP, n[-1] + FADE_STEP + 1, FADE_STEP)
        gg = np.exp(1j * (np.outer(grid / self.fs, w) + phi)).sum(axis=1) / np.sqrt(M)
        g = np.interp(n, grid, gg.real) + 1j * np.interp(n, grid, gg.imag)
        if self.s.fading == "rician" and i == 0:
            K = self.s.rician_k
            g = np.sqrt(K / (K + 1)) + np.sqrt(1 / (K + 1)) * g
        return g

    def _resample(self, x: np.ndarray) -> np.ndarray:
        """Output sample k reads the input at k * (1 + sro) - timing_offset (from the start;
        an offset set at run time takes over from the position the stream has reached, so
        switching it on or changing it loses no samples)."""
        ratio = 1.0 + self.s.sro_ppm * 1e-6
        if not self.rs_on:
            if self.n_in:          # switched on mid-stream: go on from the next input sample
                self.rs_buf = self.rs_tail          # (with the samples its window looks back on)
                self.rs_base = self.n_in - len(self.rs_tail) - SINC_HALF
                self.rs_k0, self.rs_p0 = self.n_out, float(self.n_in - SINC_HALF)
            self.rs_on, self.rs_ratio = True, ratio
        elif ratio != self.rs_ratio:
            self.rs_p0 += (self.n_out - self.rs_k0) * self.rs_ratio
            self.rs_k0, self.rs_ratio = self.n_out, ratio
        self.rs_buf = np.concatenate([self.rs_buf, x])
        last_avail = self.rs_base + len(self.rs_buf) - SINC_HALF - 1
        k_end = self.rs_k0 + int(np.floor((last_avail + self.s.timing_offset - self.rs_p0)
                                          / ratio))
        if k_end < self.n_out:
            return np.zeros(0, np.complex64)
        k = np.arange(self.n_out, k_end + 1)
        pos = self.rs_p0 + (k - self.rs_k0) * ratio - self.s.timing_offset
        base = np.floor(pos).astype(np.int64)
        frac = pos - base
        w = _lanczos(frac)
        idx = base[:, None] + np.arange(-SINC_HALF + 1, SINC_HALF + 1)[None, :] - self.rs_base
        valid = (idx >= 0) & (idx < len(self.rs_buf))
        vals = np.where(valid, self.rs_buf[np.clip(idx, 0, len(self.rs_buf) - 1)], 0)
        y = (vals * w).sum(axis=1).astype(np.complex64)
        keep_from = int(base[-1]) - SINC_HALF - self.rs_base
        if keep_from > 0:
            self.rs_buf = self.rs_buf[keep_from:]
            self.rs_base += keep_from
        self.n_out = int(k[-1]) + 1
        return y
