"""semcom: over-the-air semantic (deep JSCC) image transmission with GNU Radio and PyTorch.

This package holds the ``semcom`` command line and what the transmitter and receiver must agree
on (SNR convention, frame format, OFDM numerology). ``sdr_tx`` and ``sdr_rx`` import it; they
never import each other.
"""

__version__ = "0.1.0"
