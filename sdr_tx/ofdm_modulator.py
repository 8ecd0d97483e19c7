"""OFDM modulator (hier block of GNU Radio C++ blocks) for frames of analog JSCC symbols.

Input: complex64 tagged stream (``packet_len``): one frame's 960 header BPSK symbols
(``semcom.header.FRAME_BITS``) and its payload, a multiple of 48. Output: complex64 bursts at
``tx_rms`` RMS of full scale, each followed by ``guard`` zero samples, with
``tx_sob``/``tx_eob`` tags for hardware sinks.

Chain: ``ofdm_carrier_allocator_cvc`` (data, pilots, the 4 preamble symbols) ->
``fft_vcc`` (inverse, shifted) -> ``ofdm_cyclic_prefixer`` -> :class:`sdr_tx.tx_level.tx_level`
(scale, clip counter, guard, burst tags).
"""

from __future__ import annotations

from gnuradio import digital, fft, gr

from sdr_tx.tx_level import tx_level
from semcom import numerology as nm


def pilot_symbol_sets(n: int = 127) -> list[list[complex]]:
    pol = nm.pilot_polarity(n)
    return [[complex(v * p) for v in nm.PILOT_VALUES] for p in pol]


class ofdm_modulator(gr.hier_block2):  # noqa: N801
    def __init__(self, tx_rms: float = nm.DEFAULT_TX_RMS, guard: int = nm.DEFAULT_GUARD,
                 len_tag_key: str = nm.LEN_TAG):
        gr.hier_block2.__init__(self, "semcom_ofdm_modulator",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.allocator = digital.ofdm_carrier_allocator_cvc(
            nm.FFT_LEN, [list(nm.DATA_CARRIERS)], [list(nm.PILOT_CARRIERS)],
            pilot_symbol_sets(), nm.sync_words(), len_tag_key, True)
        self.ifft = fft.fft_vcc(nm.FFT_LEN, False, (), True, 1)
        self.cp = digital.ofdm_cyclic_prefixer(nm.FFT_LEN, nm.SYM_LEN, 0, len_tag_key)
        self.level = tx_level(nm.scale_for_rms(tx_rms), int(guard), len_tag_key)
        # Tagged-stream blocks need a whole burst in their output buffer: size them for the
        # longest frame (65535 payload symbols: 1390 OFDM symbols, 111k samples).
        longest = nm.burst_samples(65535) + int(guard)
        for blk, items in ((self.allocator, longest // nm.SYM_LEN + 1),
                           (self.ifft, longest // nm.SYM_LEN + 1),
                           (self.cp, longest)):
            blk.set_min_output_buffer(items)
        self.connect(self, self.allocator, self.ifft, self.cp, self.level, self)

    @property
    def clipped(self) -> int:
        return self.level.clipped

    @property
    def total(self) -> int:
        return self.level.total
