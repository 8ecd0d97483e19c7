#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: semcom channel emulator
# Author: semcom
# Description: guarded ZMQ IQ in -> seeded impairments -> ZMQ IQ out (as fast as possible, or real time)
# GNU Radio version: 3.10.5.1

from channel.block import channel_emulator
from gnuradio import blocks
from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from semcom.zmq_sink import zmq_iq_sink
from semcom.zmq_source import zmq_iq_source




class semcom_channel(gr.top_block):

    def __init__(self, iq_in='tcp://127.0.0.1:5555', iq_out='tcp://127.0.0.1:5556', settings_json='{}', seed=0, samp_rate=1e6, tx_rms=0.25, schedule='', control='tcp://127.0.0.1:5557', truth_path='', truth_pub='', realtime=0):
        gr.top_block.__init__(self, "semcom channel emulator", catch_exceptions=False)

        ##################################################
        # Parameters
        ##################################################
        self.iq_in = iq_in
        self.iq_out = iq_out
        self.settings_json = settings_json
        self.seed = seed
        self.samp_rate = samp_rate
        self.tx_rms = tx_rms
        self.schedule = schedule
        self.control = control
        self.truth_path = truth_path
        self.truth_pub = truth_pub
        self.realtime = realtime

        ##################################################
        # Blocks
        ##################################################

        self.source = zmq_iq_source(iq_in, False, 64, 100, bool(realtime))
        self.sink = zmq_iq_sink(iq_out, True)
        self.emulator = channel_emulator(settings_json, seed, samp_rate, tx_rms, schedule, control, truth_path, truth_pub)
        self.clock = blocks.throttle(gr.sizeof_gr_complex*1, samp_rate if realtime else 1e12,True)


        ##################################################
        # Connections
        ##################################################
        self.connect((self.clock, 0), (self.emulator, 0))
        self.connect((self.emulator, 0), (self.sink, 0))
        self.connect((self.source, 0), (self.clock, 0))


    def get_iq_in(self):
        return self.iq_in

    def set_iq_in(self, iq_in):
        self.iq_in = iq_in

    def get_iq_out(self):
        return self.iq_out

    def set_iq_out(self, iq_out):
        self.iq_out = iq_out

    def get_settings_json(self):
        return self.settings_json

    def set_settings_json(self, settings_json):
        self.settings_json = settings_json

    def get_seed(self):
        return self.seed

    def set_seed(self, seed):
        self.seed = seed

    def get_samp_rate(self):
        return self.samp_rate

    def set_samp_rate(self, samp_rate):
        self.samp_rate = samp_rate
        self.clock.set_sample_rate(self.samp_rate if self.realtime else 1e12)

    def get_tx_rms(self):
        return self.tx_rms

    def set_tx_rms(self, tx_rms):
        self.tx_rms = tx_rms

    def get_schedule(self):
        return self.schedule

    def set_schedule(self, schedule):
        self.schedule = schedule

    def get_control(self):
        return self.control

    def set_control(self, control):
        self.control = control

    def get_truth_path(self):
        return self.truth_path

    def set_truth_path(self, truth_path):
        self.truth_path = truth_path

    def get_truth_pub(self):
        return self.truth_pub

    def set_truth_pub(self, truth_pub):
        self.truth_pub = truth_pub

    def get_realtime(self):
        return self.realtime

    def set_realtime(self, realtime):
        self.realtime = realtime
        self.clock.set_sample_rate(self.samp_rate if self.realtime else 1e12)



def argument_parser():
    description = 'guarded ZMQ IQ in -> seeded impairments -> ZMQ IQ out (as fast as possible, or real time)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--iq-in", dest="iq_in", type=str, default='tcp://127.0.0.1:5555',
        help="Set IQ input to bind [default=%(default)r]")
    parser.add_argument(
        "--iq-out", dest="iq_out", type=str, default='tcp://127.0.0.1:5556',
        help="Set IQ output to connect to [default=%(default)r]")
    parser.add_argument(
        "--settings-json", dest="settings_json", type=str, default='{}',
        help="Set Impairments (JSON) [default=%(default)r]")
    parser.add_argument(
        "--seed", dest="seed", type=intx, default=0,
        help="Set Seed [default=%(default)r]")
    parser.add_argument(
        "--samp-rate", dest="samp_rate", type=eng_float, default=eng_notation.num_to_str(float(1e6)),
        help="Set Sample rate [default=%(default)r]")
    parser.add_argument(
        "--tx-rms", dest="tx_rms", type=eng_float, default=eng_notation.num_to_str(float(0.25)),
        help="Set TX burst RMS [default=%(default)r]")
    parser.add_argument(
        "--schedule", dest="schedule", type=str, default='',
        help="Set SNR schedule [default=%(default)r]")
    parser.add_argument(
        "--control", dest="control", type=str, default='tcp://127.0.0.1:5557',
        help="Set Control address [default=%(default)r]")
    parser.add_argument(
        "--truth-path", dest="truth_path", type=str, default='',
        help="Set True SNR log [default=%(default)r]")
    parser.add_argument(
        "--truth-pub", dest="truth_pub", type=str, default='',
        help="Set True SNR publisher [default=%(default)r]")
    parser.add_argument(
        "--realtime", dest="realtime", type=intx, default=0,
        help="Set Real time (0/1) [default=%(default)r]")
    return parser


def main(top_block_cls=semcom_channel, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(iq_in=options.iq_in, iq_out=options.iq_out, settings_json=options.settings_json, seed=options.seed, samp_rate=options.samp_rate, tx_rms=options.tx_rms, schedule=options.schedule, control=options.control, truth_path=options.truth_path, truth_pub=options.truth_pub, realtime=options.realtime)

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
