#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: semcom RX
# Author: semcom
# Description: IQ source -> OFDM receiver -> JSCC decoder (images, metrics, frame log)
# GNU Radio version: 3.10.5.1

from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from sdr_rx.dc_blocker import dc_blocker
from sdr_rx.feedback_sink import feedback_sink
from sdr_rx.iq_source import iq_source
from sdr_rx.jscc_decoder import jscc_decoder
from sdr_rx.ofdm_receiver import ofdm_receiver




class semcom_rx(gr.top_block):

    def __init__(self, source_kind='zmq', source_address='tcp://127.0.0.1:5556', model='default', model_id='', out_dir='', reference='', log_path='', snr_correction='', samp_rate=1e6, dc_block=8192, feedback='', max_side=256):
        gr.top_block.__init__(self, "semcom RX", catch_exceptions=False)

        ##################################################
        # Parameters
        ##################################################
        self.source_kind = source_kind
        self.source_address = source_address
        self.model = model
        self.model_id = model_id
        self.out_dir = out_dir
        self.reference = reference
        self.log_path = log_path
        self.snr_correction = snr_correction
        self.samp_rate = samp_rate
        self.dc_block = dc_block
        self.feedback = feedback
        self.max_side = max_side

        ##################################################
        # Blocks
        ##################################################

        self.source = iq_source(source_kind, source_address, False, False)
        self.reports = feedback_sink(feedback, log_path)
        self.receiver = ofdm_receiver(samp_rate, model_id, log_path, snr_correction=snr_correction)
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


    def get_source_kind(self):
        return self.source_kind

    def set_source_kind(self, source_kind):
        self.source_kind = source_kind

    def get_source_address(self):
        return self.source_address

    def set_source_address(self, source_address):
        self.source_address = source_address

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
    description = 'IQ source -> OFDM receiver -> JSCC decoder (images, metrics, frame log)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--source-kind", dest="source_kind", type=str, default='zmq',
        help="Set IQ source kind [default=%(default)r]")
    parser.add_argument(
        "--source-address", dest="source_address", type=str, default='tcp://127.0.0.1:5556',
        help="Set IQ source address or path [default=%(default)r]")
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
        "--dc-block", dest="dc_block", type=intx, default=8192,
        help="Set DC blocker time constant (samples; 0: off) [default=%(default)r]")
    parser.add_argument(
        "--feedback", dest="feedback", type=str, default='',
        help="Set Feedback address (empty = none) [default=%(default)r]")
    parser.add_argument(
        "--max-side", dest="max_side", type=intx, default=256,
        help="Set The TX's max image side (references sized alike) [default=%(default)r]")
    return parser


def main(top_block_cls=semcom_rx, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(source_kind=options.source_kind, source_address=options.source_address, model=options.model, model_id=options.model_id, out_dir=options.out_dir, reference=options.reference, log_path=options.log_path, snr_correction=options.snr_correction, samp_rate=options.samp_rate, dc_block=options.dc_block, feedback=options.feedback, max_side=options.max_side)

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
