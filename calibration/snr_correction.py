"""Moved to :mod:`semcom.snr_correction` (data both sides read); kept as an import path."""

from semcom.snr_correction import DEFAULT_PATH, FORMAT, VERSION, SnrCorrection  # noqa: F401
