"""Radio front ends (``--radio pluto[:URI]`` / ``--radio usrp[:ARGS]``): the options, their
checks (one line, exit 2), and opening a device with one clear line when there is none.

What TX and RX agree on about a radio lives here; the flowgraphs are
``flowgraphs/semcom_{tx,rx}_{pluto,usrp}.grc`` (GNU Radio's own gr-iio / gr-uhd blocks).

**Full scale.** ``--tx-rms`` is the burst RMS as a fraction of full scale, where full scale is
complex float magnitude 1.0 on the GNU Radio side: gr-iio's fc32 sink multiplies by 32768 (1.0 is
int16 full scale, the AD9361 DAC's full scale), gr-uhd's fc32 with sc16 on the wire maps 1.0 to
32767. On receive, gr-iio's fc32 source divides the 12-bit ADC's int16 words by 2048 (its full
scale is 1.0 too); UHD's likewise. The default 0.25 (-12 dBFS RMS) leaves about 10 dB for the
OFDM peaks before :mod:`sdr_tx.tx_level` clips at 1.0.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from semcom.validate import OptionError

KINDS = ("pluto", "usrp")
AGC_MODES = ("slow", "fast", "manual")
PLUTO_AGC = {"slow": "slow_attack", "fast": "fast_attack", "manual": "manual"}
OPEN_TIMEOUT_S = 12.0       # a device that does not answer: one line and exit 2 within 15 s

# what each radio accepts (PlutoSDR: AD9361 via gr-iio's GRC asserts; USRP: the union of the
# B2xx/N2xx/X3xx ranges, the device itself refines them)
LIMITS = {
    "pluto": {"freq": (70e6, 6e9), "samp_rate": (65_105.0, 61.44e6),
              "bandwidth": (200e3, 40e6), "rx_gain": (-3.0, 71.0), "tx_atten": (0.0, 89.75)},
    "usrp": {"freq": (10e6, 6e9), "samp_rate": (1e3, 200e6), "bandwidth": (0.0, 160e6),
             "rx_gain": (0.0, 76.0), "tx_gain": (0.0, 89.8)},
}
NAMES = {"pluto": "PlutoSDR", "usrp": "USRP"}
RX_BUFFER = 32768           # samples per libiio RX buffer (GRC's default)


def tx_buffer(burst_and_guard: int) -> int:
    """The Pluto TX buffer for bursts of this length with their guard: rounded up to 1024
    (at the default 1920 JSCC symbols per frame: 5120 + 400 -> 6144, 90% of the air time is
    bursts and guards; 32768 would be 17%)."""
    return max(1024, -(-int(burst_and_guard) // 1024) * 1024)


PLUTO_USB_RATE = 4e6        # above this a Pluto's USB 2 link drops samples (field reports)


@dataclass
class Radio:
    kind: str           # 'pluto' | 'usrp'
    address: str        # Pluto: libiio URI ('' = the first Pluto found); USRP: device args

    @property
    def name(self) -> str:
        where = self.address or ("the first one found" if self.kind == "pluto" else
                                 "any attached")
        return f"{NAMES[self.kind]} ({where})"


def parse(spec: str) -> Radio:
    """``pluto``, ``pluto:ip:192.168.2.1``, ``pluto:usb:1.2.5``, ``usrp``,
    ``usrp:type=b200,serial=3136D4B`` -> :class:`Radio` (OptionError otherwise)."""
    kind, _, addr = str(spec).partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise OptionError(f"--radio must be pluto[:URI] or usrp[:ARGS], got {spec!r}")
    addr = addr.strip()
    if any(c in addr for c in "\n\r\0"):
        raise OptionError(f"--radio {spec!r}: the address has control characters")
    if kind == "pluto" and addr.split(":", 1)[0] not in ("", "ip", "usb", "local",
                                                               "serial"):
        raise OptionError(f"--radio {spec!r}: a Pluto URI is ip:HOST, usb:BUS.DEV.IF, "
                          "serial:... or local:")
    return Radio(kind, addr)


def add_arguments(p, side: str) -> None:
    """The radio options of ``semcom tx`` (side 'tx'), ``rx`` ('rx') or ``loopback`` ('both')."""
    g = p.add_argument_group("radio (over the air; docs/ota.md)")
    g.add_argument("--radio", default="", metavar="pluto[:URI]|usrp[:ARGS]",
                   help="send/receive with a PlutoSDR (gr-iio) or a USRP (gr-uhd) instead of "
                        "ZMQ or a file")
    g.add_argument("--freq", type=float, default=2.45e9, help="centre frequency, Hz")
    g.add_argument("--bandwidth", type=float, default=0.0,
                   help="analog RF bandwidth, Hz (0: the sample rate, at least 200 kHz on a "
                        "Pluto; gr-iio 3.10.5's Pluto source has no bandwidth setter: on a "
                        "Pluto it sets the TX side only)")
    if side in ("tx", "both"):
        g.add_argument("--tx-gain", type=float, default=None, help="USRP TX gain, dB")
        g.add_argument("--tx-atten", type=float, default=None,
                       help="PlutoSDR TX attenuation, dB (0 = full power; default 30)")
    if side == "tx":
        g.add_argument("--tx-time-offset", type=float, default=0.0, metavar="S",
                       help="USRP timed bursts: each burst gets a tx_time tag S seconds after "
                            "it is handed over (device time set to 0 at start; 0: untimed). A "
                            "PlutoSDR has no timestamps")
    if side in ("rx", "both"):
        g.add_argument("--rx-gain", type=float, default=None,
                       help="RX gain, dB (implies --agc manual)")
        g.add_argument("--agc", default="", choices=("",) + AGC_MODES,
                       help="RX gain control: slow, fast (AD9361 slow/fast attack; a USRP's AGC "
                            "where it has one) or manual (default: manual with --rx-gain, "
                            "else slow)")
    if side in ("tx", "rx"):
        g.add_argument("--buffer-size", type=int, default=0,
                       help="PlutoSDR: samples per libiio buffer (TX: each burst is padded to "
                            "whole buffers; 0: TX one burst and its guard rounded up to 1024, "
                            "RX 32768)")


def check_args(args, side: str) -> Radio | None:
    """Checks the radio options (OptionError: one line) and fills in defaults.
    -> the radio, or None without ``--radio`` (then any radio-only option is refused)."""
    from semcom import validate as v

    given = {o for o in ("tx_gain", "tx_atten", "rx_gain")
             if getattr(args, o, None) is not None}
    if getattr(args, "tx_time_offset", 0.0):
        given.add("tx_time_offset")
    if not args.radio:
        extra = sorted(given) + (["agc"] if getattr(args, "agc", "") else [])
        if extra:
            raise OptionError(f"--{extra[0].replace('_', '-')} needs --radio")
        return None
    r = parse(args.radio)
    lim = LIMITS[r.kind]
    if getattr(args, "file", "") and side != "both":
        raise OptionError("--radio and --file: give one " + ("output" if side == "tx" else
                                                             "input"))
    args.freq = v.finite("--freq", args.freq, *lim["freq"], "Hz")
    args.samp_rate = v.finite("--samp-rate", args.samp_rate, *lim["samp_rate"], "S/s")
    if args.bandwidth == 0:
        args.bandwidth = max(args.samp_rate, lim["bandwidth"][0])
    args.bandwidth = v.finite("--bandwidth", args.bandwidth, *lim["bandwidth"], "Hz")
    if r.kind == "pluto":
        if "tx_gain" in given:
            raise OptionError("--tx-gain is for a USRP; a PlutoSDR takes --tx-atten (dB)")
        if "tx_time_offset" in given:
            raise OptionError("--tx-time-offset is for a USRP: a PlutoSDR (stock firmware) has "
                              "no timestamps")
        if side in ("tx", "both"):
            args.tx_atten = v.finite("--tx-atten", 30.0 if args.tx_atten is None
                                     else args.tx_atten, *lim["tx_atten"], "dB")
    else:
        if "tx_atten" in given:
            raise OptionError("--tx-atten is for a PlutoSDR; a USRP takes --tx-gain (dB)")
        if side in ("tx", "both"):
            args.tx_gain = v.finite("--tx-gain", 0.0 if args.tx_gain is None
                                    else args.tx_gain, *lim["tx_gain"], "dB")
        if hasattr(args, "tx_time_offset"):
            args.tx_time_offset = v.finite("--tx-time-offset", args.tx_time_offset, 0.0, 3600.0,
                                           "s")
    if side in ("rx", "both"):
        if args.agc and args.agc != "manual" and "rx_gain" in given:
            raise OptionError(f"--rx-gain applies with --agc manual, not --agc {args.agc}")
        args.agc = args.agc or ("manual" if "rx_gain" in given else "slow")
        default_gain = 40.0 if r.kind == "pluto" else 30.0
        args.rx_gain = v.finite("--rx-gain", default_gain if args.rx_gain is None
                                else args.rx_gain, *lim["rx_gain"], "dB")
    if hasattr(args, "buffer_size"):
        if args.buffer_size != 0:
            args.buffer_size = v.integer("--buffer-size", args.buffer_size, 1024, 1 << 22,
                                         "samples (or 0: auto)")
        elif side == "rx":
            args.buffer_size = RX_BUFFER
        else:
            from semcom import numerology as nm
            args.buffer_size = tx_buffer(nm.burst_samples(args.frame_symbols) + args.guard)
    return r


def warnings(r: Radio, args) -> list[str]:
    """Things worth a line on stderr that are not errors."""
    out = []
    if r.kind == "pluto" and args.samp_rate > PLUTO_USB_RATE:
        out.append(f"{args.samp_rate:g} S/s is above the {PLUTO_USB_RATE:g} S/s a Pluto's USB "
                   "link sustains reliably: expect dropped samples")
    return out


@contextlib.contextmanager
def captured_output():
    """Sends file descriptors 1 and 2 (what C++ libraries print: libiio's Avahi errors, UHD's
    [INFO] banner) to a temporary file for the duration; yields a list that holds the text
    afterwards."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    text: list[str] = []
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield text
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


class RadioError(OptionError):
    """No such radio, or its GNU Radio module is missing (one line, exit 2)."""


def _first_line(exc: BaseException) -> str:
    s = " ".join(str(exc).split())
    return s[:160] or type(exc).__name__


LOG_SETTLE_S = 0.3       # a failed open: time for a library's asynchronous log line


def open_radio(r: Radio, build, timeout_s: float = OPEN_TIMEOUT_S):
    """``build()`` (constructs the top block, which opens the device) with the libraries'
    output captured. -> the top block. A missing device or module: :class:`RadioError` naming
    the radio; no answer within ``timeout_s``: one line on stderr and exit 2 (a C++ call cannot
    be interrupted)."""
    module = {"pluto": "gnuradio.iio (Debian package gnuradio, with libiio)",
              "usrp": "gnuradio.uhd (Debian package gnuradio, with libuhd)"}[r.kind]

    def too_slow():
        os.write(saved_err, f"semcom: error: --radio {r.kind}: no answer from the "
                            f"{r.name} within {timeout_s:g} s\n".encode())
        os._exit(2)
    saved_err = os.dup(2)
    timer = threading.Timer(timeout_s, too_slow)
    timer.daemon = True
    timer.start()
    try:
        with captured_output() as chatter:
            try:
                return build()
            except ImportError as exc:
                err = RadioError(f"--radio {r.kind}: cannot load {module}: {_first_line(exc)}")
            except (RuntimeError, LookupError, OSError, ValueError) as exc:
                if type(exc).__module__ != "builtins":
                    raise       # semcom's own refusal while building the graph, not the radio's
                msg = _first_line(exc)
                why = "no device found" if ("context" in msg or "No devices" in msg or
                                            "No Pluto" in msg or "No device" in msg) else msg
                hint = ("check the USB/network link and the URI (iio_info -s lists Plutos)"
                        if r.kind == "pluto" else
                        "check the USB/Ethernet link (uhd_find_devices lists USRPs)")
                err = RadioError(f"--radio {r.kind}: cannot open the {r.name}: {why}; {hint}")
            # UHD logs from its own thread: let a banner still on its way land in the capture
            time.sleep(LOG_SETTLE_S)
        err.chatter = chatter[0] if chatter else ""
        raise err
    finally:
        timer.cancel()
        os.close(saved_err)


def _open_bare(r: Radio):
    if r.kind == "pluto":
        from gnuradio import iio
        return iio.fmcomms2_source_fc32(r.address or iio.get_pluto_uri(), [True, True], 1024)
    from gnuradio import uhd
    return uhd.usrp_source(r.address, uhd.stream_args(cpu_format="fc32", channels=[0]))


def probe(r: Radio) -> None:
    """Opens the radio's receive side once and lets it go: RadioError (one line) when there is
    no such radio. For commands that start other processes on it (``semcom loopback``)."""
    blk = open_radio(r, lambda: _open_bare(r))
    del blk
