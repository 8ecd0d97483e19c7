"""TX level: scale the burst to its RMS convention and count (and clip) overdriven samples.

Input/output: complex64 stream. ``out = in * scale``; samples with ``|out| > 1`` (full scale)
are clipped to magnitude 1 and counted in :attr:`clipped`. ``scale`` is set so a burst has RMS
``tx_rms`` (:func:`semcom.numerology.scale_for_rms`).
"""

from __future__ import annotations

import numpy as np
from gnuradio import gr


class tx_level(gr.sync_block):  # noqa: N801  (GNU Radio block naming)
    def __init__(self, scale: float = 1.0):
        gr.sync_block.__init__(self, name="semcom_tx_level", in_sig=[np.complex64],
                               out_sig=[np.complex64])
        self.scale = float(scale)
        self.clipped = 0
        self.total = 0

    def work(self, input_items, output_items):
        x = input_items[0] * np.float32(self.scale)
        mag = np.abs(x)
        over = mag > 1.0
        n_over = int(np.count_nonzero(over))
        if n_over:
            x[over] /= mag[over]
            self.clipped += n_over
        output_items[0][:] = x
        self.total += len(x)
        return len(x)
