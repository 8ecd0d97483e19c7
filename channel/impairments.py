"""The channel emulator's impairments: their names, defaults and accepted ranges, defined once.

:class:`Settings` holds every impairment (each off by default); :data:`LIMITS` the range and
unit of every numeric one; :data:`FLAGS` the command-line flag of each (``--snr`` for
``snr_db``, otherwise the name with dashes). The command line, the control socket and the
GRC block all take these names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from semcom.profiles import PROFILES
from semcom.validate import OptionError, finite


@dataclass
class Settings:
    snr_db: float | None = None        # None: no noise
    cfo_hz: float = 0.0
    sro_ppm: float = 0.0
    timing_offset: float = 0.0         # samples (fractional allowed)
    multipath: str = ""                # "" or a profile name
    fading: str = ""                   # "", "rayleigh" or "rician"
    doppler_hz: float = 0.0
    rician_k: float = 4.0
    phase_noise_deg: float = 0.0       # random-walk std per sample (degrees)
    iq_gain_db: float = 0.0
    iq_phase_deg: float = 0.0
    dc_offset: float = 0.0             # fraction of tx_rms, on I and Q
    clip: float = 0.0                  # PA clip level (fraction of full scale), 0: off

    def update(self, changes: dict, samp_rate: float | None = None) -> None:
        """Apply ``changes`` after checking all of them (nothing changes if one is bad): an
        unknown name is a KeyError, a value that is not finite or out of its range an
        :class:`~semcom.validate.OptionError` naming the range and unit. ``samp_rate`` bounds
        the carrier offset to +-fs/2."""
        if not isinstance(changes, dict):
            raise OptionError(f"impairments must be a JSON object of name: value, got "
                              f"{type(changes).__name__}")
        clean = {}
        for k, v in changes.items():
            if k not in self.__dataclass_fields__:
                raise KeyError(f"unknown impairment {k!r}; known: {', '.join(asdict(self))}")
            if k in ("multipath", "fading"):
                if v is not None and not isinstance(v, str):
                    raise OptionError(f"{k} must be a string, got {v!r}"[:120])
                v = v or ""
                if k == "multipath" and v and v not in PROFILES:
                    raise KeyError(f"unknown multipath profile {v!r}; known: "
                                   f"{', '.join(PROFILES)}")
                if k == "fading" and v not in ("", "rayleigh", "rician"):
                    raise KeyError("fading must be '', 'rayleigh' or 'rician'")
            elif k == "snr_db" and v is None:
                pass                                       # no noise
            elif k == "cfo_hz" and samp_rate:
                v = finite(k, v, -samp_rate / 2, samp_rate / 2, "Hz (+-fs/2)")
            else:
                lo, hi, unit = LIMITS[k]
                v = finite(k, v, lo, hi, unit)
            clean[k] = v
        for k, v in clean.items():
            setattr(self, k, v)


# Accepted range and unit of every numeric impairment (the control socket and the command line
# refuse anything else: a value out of these ranges can only be a mistake, and some, such as an
# SNR of 1e308 or a sample-rate offset of -1e7 ppm, would break the emulator).
LIMITS = {
    "snr_db": (-50.0, 100.0, "dB"),
    "cfo_hz": (-50e6, 50e6, "Hz"),
    "sro_ppm": (-1000.0, 1000.0, "ppm"),
    "timing_offset": (-10000.0, 10000.0, "samples"),
    "doppler_hz": (0.0, 1e5, "Hz"),
    "rician_k": (0.0, 1e6, "(linear K factor)"),
    "phase_noise_deg": (0.0, 90.0, "deg per sample"),
    "iq_gain_db": (-30.0, 30.0, "dB"),
    "iq_phase_deg": (-180.0, 180.0, "deg"),
    "dc_offset": (-100.0, 100.0, "x the TX RMS"),
    "clip": (0.0, 100.0, "x full scale (0: off)"),
}


# what each impairment is (the CLI's help; None: its name says it) and the choices of the named
# ones: the CLI's options are made from these, Settings and FLAGS
HELP = {"snr_db": "AWGN SNR in dB (product convention)", "cfo_hz": None,
        "sro_ppm": "sample-rate offset", "timing_offset": "samples, fractional ok",
        "multipath": "tap profile: " + ", ".join(PROFILES), "fading": None,
        "doppler_hz": None, "rician_k": None,
        "phase_noise_deg": "random-walk std per sample (deg)", "iq_gain_db": None,
        "iq_phase_deg": None, "dc_offset": "fraction of the TX RMS",
        "clip": "PA clip level (full scale 1)"}
CHOICES = {"fading": ["rayleigh", "rician"]}

# command-line flag of each impairment (error messages, the CLI's options)
FLAGS = {f.name: "--snr" if f.name == "snr_db" else "--" + f.name.replace("_", "-")
         for f in fields(Settings)}
