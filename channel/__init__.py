"""The channel emulator: seeded, deterministic impairments on IQ (:mod:`channel.core`), their
names and ranges (:mod:`channel.impairments`), SNR schedules (:mod:`channel.schedules`) and the
GNU Radio block around them (:mod:`channel.block`, imported on its own: it needs GNU Radio)."""

from channel.core import BurstRecord, ChannelCore
from channel.impairments import FLAGS, LIMITS, Settings
from channel.schedules import KINDS, Ramp, RandomWalk, Schedule, Steps, Trace, make_schedule

__all__ = ["FLAGS", "KINDS", "LIMITS", "BurstRecord", "ChannelCore", "RandomWalk", "Ramp",
           "Schedule", "Settings", "Steps", "Trace", "make_schedule"]
