#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: semcom RX (USRP)
# Author: semcom
# Description: USRP (gr-uhd) -> OFDM receiver -> JSCC decoder (images, metrics, frame log)
# GNU Radio version: 3.10.5.1

from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import uhd
import time
from sdr_rx.dc_blocker import dc_blocker
from sdr_rx.feedback_sink import feedback_sink
from sdr_rx.jscc_decoder import jscc_decoder
from sdr_rx.ofdm_receiver import ofdm_receiver
from sdr_rx.radio_monitor import radio_monitor




class semcom_rx_usrp(gr.top_block):

    def __init__(self, model='default', model_id='', out_dir='', reference='', log_path='', snr_correction='', samp_rate=1e6, freq=2.45e9, bandwidth=2e6, dev_args='', rx_gain=30.0, agc='manual', dc_block=8192, feedback='', max_side=256):
        gr.top_block.__init__(self, "semcom RX (USRP)", catch_exceptions=False)

        ##################################################
        # Parameters
        ##################################################
        self.model = model
        self.model_id = model_id
        self.out_dir = out_dir
        self.reference = reference
        self.log_path = log_path
        self.snr_correction = snr_correction
        self.samp_rate = samp_rate
        self.freq = freq
        self.bandwidth = bandwidth
        self.dev_args = dev_args
        self.rx_gain = rx_gain
        self.agc = agc
        self.dc_block = dc_block
        self.feedback = feedback
        self.max_side = max_side

        ##################################################
        # Blocks
        ##################################################

        self.source = uhd.usrp_source(
            ",".join((dev_args, '')),
            uhd.stream_args(
                cpu_format="fc32",
                otw_format="sc16",
                args='',
                channels=list(range(0,1)),
            ),
        )
        self.source.set_samp_rate(samp_rate)
        # No synchronization enforced.

        self.source.set_center_freq(freq, 0)
        self.source.set_antenna('RX2', 0)
        self.source.set_bandwidth(bandwidth, 0)
        self.source.set_gain(rx_gain, 0)
        self.reports = feedback_sink(feedback, log_path)
        self.receiver = ofdm_receiver(samp_rate, model_id, log_path, snr_correction=snr_correction)
        self.monitor = radio_monitor(samp_rate)
        self.decoder = jscc_decoder(model, out_dir, reference, 0, 2.0, 1, max_side=max_side, log_path=log_path)
        self.dc_blocker = dc_blocker(dc_block)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.decoder, 'images'), (self.reports, 'images'))
        self.msg_connect((self.receiver, 'frames'), (self.decoder, 'frames'))
        self.msg_connect((self.receiver, 'frames'), (self.reports, 'frames'))
        self.connect((self.dc_blocker, 0), (self.receiver, 0))
        self.connect((self.source, 0), (self.dc_blocker, 0))
        self.connect((self.source, 0), (self.monitor, 0))


    def get_model(self):
        return self.model

    def set_model(self, model):
        self.model = model

    def get_model_id(self):
        return self.model_id

    def set_model_id(self, model_id):
        self.model_id = model_id

    def get_out_dir(self):
        return self.out_dir

    def set_out_dir(self, out_dir):
        self.out_dir = out_dir

    def get_reference(self):
        return self.reference

    def set_reference(self, reference):
        self.reference = reference

    def get_log_path(self):
        return self.log_path

    def set_log_path(self, log_path):
        self.log_path = log_path

    def get_snr_correction(self):
        return self.snr_correction

    def set_snr_correction(self, snr_correction):
        self.snr_correction = snr_correction

    def get_samp_rate(self):
        return self.samp_rate

    def set_samp_rate(self, samp_rate):
        self.samp_rate = samp_rate
        self.source.set_samp_rate(self.samp_rate)

    def get_freq(self):
        return self.freq

    def set_freq(self, freq):
        self.freq = freq
        self.source.set_center_freq(self.freq, 0)

    def get_bandwidth(self):
        return self.bandwidth

    def set_bandwidth(self, bandwidth):
        self.bandwidth = bandwidth
        self.source.set_bandwidth(self.bandwidth, 0)

    def get_dev_args(self):
        return self.dev_args

    def set_dev_args(self, dev_args):
        self.dev_args = dev_args

    def get_rx_gain(self):
        return self.rx_gain

    def set_rx_gain(self, rx_gain):
        self.rx_gain = rx_gain
        self.source.set_gain(self.rx_gain, 0)

    def get_agc(self):
        return self.agc

    def set_agc(self, agc):
        self.agc = agc

    def get_dc_block(self):
        return self.dc_block

    def set_dc_block(self, dc_block):
        self.dc_block = dc_block

    def get_feedback(self):
        return self.feedback

    def set_feedback(self, feedback):
        self.feedback = feedback

    def get_max_side(self):
        return self.max_side

    def set_max_side(self, max_side):
        self.max_side = max_side



def argument_parser():
    description = 'USRP (gr-uhd) -> OFDM receiver -> JSCC decoder (images, metrics, frame log)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--model", dest="model", type=str, default='default',
        help="Set Model [default=%(default)r]")
    parser.add_argument(
        "--model-id", dest="model_id", type=str, default='',
        help="Set Model id to accept (hex) [default=%(default)r]")
    parser.add_argument(
        "--out-dir", dest="out_dir", type=str, default='',
        help="Set Image folder [default=%(default)r]")
    parser.add_argument(
        "--reference", dest="reference", type=str, default='',
        help="Set Original images [default=%(default)r]")
    parser.add_argument(
        "--log-path", dest="log_path", type=str, default='',
        help="Set Frame log [default=%(default)r]")
    parser.add_argument(
        "--snr-correction", dest="snr_correction", type=str, default='',
        help="Set SNR correction (empty: shipped file; none: off) [default=%(default)r]")
    parser.add_argument(
        "--samp-rate", dest="samp_rate", type=eng_float, default=eng_notation.num_to_str(float(1e6)),
        help="Set Sample rate [default=%(default)r]")
    parser.add_argument(
        "--freq", dest="freq", type=eng_float, default=eng_notation.num_to_str(float(2.45e9)),
        help="Set Centre frequency (Hz) [default=%(default)r]")
    parser.add_argument(
        "--bandwidth", dest="bandwidth", type=eng_float, default=eng_notation.num_to_str(float(2e6)),
        help="Set RF bandwidth (Hz) [default=%(default)r]")
    parser.add_argument(
        "--dev-args", dest="dev_args", type=str, default='',
        help="Set UHD device arguments [default=%(default)r]")
    parser.add_argument(
        "--rx-gain", dest="rx_gain", type=eng_float, default=eng_notation.num_to_str(float(30.0)),
        help="Set RX gain (dB) [default=%(default)r]")
    parser.add_argument(
        "--agc", dest="agc", type=str, default='manual',
        help="Set AGC (manual [default=%(default)r]")
    parser.add_argument(
        "--dc-block", dest="dc_block", type=intx, default=8192,
        help="Set DC blocker time constant (samples; 0: off) [default=%(default)r]")
    parser.add_argument(
        "--feedback", dest="feedback", type=str, default='',
        help="Set Feedback address (empty = none) [default=%(default)r]")
    parser.add_argument(
        "--max-side", dest="max_side", type=intx, default=256,
        help="Set The TX's max image side (references sized alike) [default=%(default)r]")
    return parser


def main(top_block_cls=semcom_rx_usrp, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(model=options.model, model_id=options.model_id, out_dir=options.out_dir, reference=options.reference, log_path=options.log_path, snr_correction=options.snr_correction, samp_rate=options.samp_rate, freq=options.freq, bandwidth=options.bandwidth, dev_args=options.dev_args, rx_gain=options.rx_gain, agc=options.agc, dc_block=options.dc_block, feedback=options.feedback, max_side=options.max_side)

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()

        sys.exit(0)

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    tb.start()

    tb.wait()


if __name__ == '__main__':
    main()
