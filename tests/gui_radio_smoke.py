"""``semcom rx --gui --radio pluto|usrp`` offscreen with the device source, and only it, replaced
by a hier block playing a cf32 file (used by tests/qa_radio_gui.py; a separate process: Qt).

argv: kind, IQ file, model, out dir. Exits with the CLI's code; prints the setter calls as JSON."""

import json
import sys

import numpy as np
from gnuradio import blocks, gr

kind, iq, model, out = sys.argv[1:5]
calls = []


class FakeSource(gr.hier_block2):
    def __init__(self, *args, **kw):
        gr.hier_block2.__init__(self, "fake_source", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        x = np.fromfile(iq, np.complex64)
        x = np.r_[x, np.zeros(200_000, np.complex64)]      # then quiet, as a radio would be
        self.src = blocks.vector_source_c(x.tolist(), True)
        self.thr = blocks.throttle(gr.sizeof_gr_complex, 2e6)
        self.connect(self.src, self.thr, self)

    def get_usrp_info(self, chan=0):
        return {"mboard_serial": ""}


def _recorder(name):
    def setter(self, *a):
        calls.append([name, list(map(str, a))])
    return setter


for _name in ("set_len_tag_key", "set_frequency", "set_samplerate", "set_gain_mode", "set_gain",
              "set_quadrature", "set_rfdc", "set_bbdc", "set_filter_params", "set_samp_rate",
              "set_center_freq", "set_antenna", "set_bandwidth", "set_rx_agc"):
    setattr(FakeSource, _name, _recorder(_name))


if kind == "pluto":
    from gnuradio import iio
    iio.fmcomms2_source_fc32 = FakeSource
    iio.get_pluto_uri = lambda: "usb:fake"
else:
    from gnuradio import uhd
    uhd.usrp_source = FakeSource

from semcom.cli import main  # noqa: E402

rc = main(["rx", "--gui", "--radio", kind, "--model", model, "--out", out, "--num-images", "1",
           "--idle-timeout", "60", "--rx-gain", "20"])
print(json.dumps(calls))
sys.exit(rc)
