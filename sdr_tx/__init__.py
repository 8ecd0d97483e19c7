"""Transmitter side: JSCC encoder, framer, OFDM modulator, IQ sinks. Never imports sdr_rx."""
