#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: semcom cable loopback (one PlutoSDR)
# Author: semcom
# Description: Images -> TX -> PlutoSDR -> cable -> the same PlutoSDR -> RX -> images, feedback to the TX (made by scripts/make_gui_radio.py)
# GNU Radio version: 3.10.5.1

from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import iio
from sdr_rx.dc_blocker import dc_blocker
from sdr_rx.feedback_sink import feedback_sink
from sdr_rx.jscc_decoder import jscc_decoder
from sdr_rx.ofdm_receiver import ofdm_receiver
from sdr_rx.radio_monitor import radio_monitor
from sdr_tx.framer_block import jscc_framer
from sdr_tx.image_source import image_source
from sdr_tx.jscc_encoder import jscc_encoder
from sdr_tx.ofdm_modulator import ofdm_modulator
from sdr_tx.radio_burst import pluto_burst_pad
from sdr_tx.rate_control import rate_control




class semcom_cable_pluto(gr.top_block):

    def __init__(self, images='', model='default', snr_db=10.0, keep=0, frame_symbols=1920, tx_rms=0.25, guard=400, repeat=1, max_side=256, images_in_flight=0, samp_rate=1e6, freq=2.45e9, bandwidth=2e6, uri='', tx_atten=30.0, buffer_size=8192, feedback='', policy='target', scheme='jscc', mcs='auto', target_psnr=25.0, margin_db=0.5, budget_symbols=0, rate_table='', safe_keep=0, feedback_timeout=3.0, model_id='', out_dir='', reference='', log_path='', snr_correction='', rx_gain=40.0, rx_buffer_size=8192, dc_block=8192):
        gr.top_block.__init__(self, "semcom cable loopback (one PlutoSDR)", catch_exceptions=False)

        ##################################################
        # Parameters
        ##################################################
        self.images = images
        self.model = model
        self.snr_db = snr_db
        self.keep = keep
        self.frame_symbols = frame_symbols
        self.tx_rms = tx_rms
        self.guard = guard
        self.repeat = repeat
        self.max_side = max_side
        self.images_in_flight = images_in_flight
        self.samp_rate = samp_rate
        self.freq = freq
        self.bandwidth = bandwidth
        self.uri = uri
        self.tx_atten = tx_atten
        self.buffer_size = buffer_size
        self.feedback = feedback
        self.policy = policy
        self.scheme = scheme
        self.mcs = mcs
        self.target_psnr = target_psnr
        self.margin_db = margin_db
        self.budget_symbols = budget_symbols
        self.rate_table = rate_table
        self.safe_keep = safe_keep
        self.feedback_timeout = feedback_timeout
        self.model_id = model_id
        self.out_dir = out_dir
        self.reference = reference
        self.log_path = log_path
        self.snr_correction = snr_correction
        self.rx_gain = rx_gain
        self.rx_buffer_size = rx_buffer_size
        self.dc_block = dc_block

        ##################################################
        # Blocks
        ##################################################

        self.source = image_source(images, repeat, max_side, images_in_flight, 0)
        self.sink = iio.fmcomms2_sink_fc32(uri if uri else iio.get_pluto_uri(), [True, True], buffer_size, False)
        self.sink.set_len_tag_key('')
        self.sink.set_bandwidth(int(bandwidth))
        self.sink.set_frequency(int(freq))
        self.sink.set_samplerate(int(samp_rate))
        self.sink.set_attenuation(0, tx_atten)
        self.sink.set_filter_params('Auto', '', 0, 0)
        self.reports = feedback_sink(feedback, log_path)
        self.receiver = ofdm_receiver(samp_rate, model_id, log_path, snr_correction=snr_correction)
        self.rate = rate_control(model, feedback, policy, keep, snr_db, target_psnr, margin_db, budget_symbols, rate_table, safe_keep, feedback_timeout, scheme=scheme, mcs=mcs)
        self.radio_source = iio.fmcomms2_source_fc32(uri if uri else iio.get_pluto_uri(), [True, True], rx_buffer_size)
        self.radio_source.set_len_tag_key('')
        self.radio_source.set_frequency(int(freq))
        self.radio_source.set_samplerate(int(samp_rate))
        self.radio_source.set_gain_mode(0, 'slow_attack')
        self.radio_source.set_gain(0, rx_gain)
        self.radio_source.set_quadrature(True)
        self.radio_source.set_rfdc(True)
        self.radio_source.set_bbdc(True)
        self.radio_source.set_filter_params('Auto', '', 0, 0)
        self.pad = pluto_burst_pad(buffer_size, guard)
        self.monitor = radio_monitor(samp_rate)
        self.modulator = ofdm_modulator(tx_rms, guard, 'packet_len')
        self.framer = jscc_framer(frame_symbols, 'packet_len')
        self.encoder = jscc_encoder(model, snr_db, keep, 1, scheme=scheme, mcs=mcs)
        self.decoder = jscc_decoder(model, out_dir, reference, 0, 2.0, 1, max_side=max_side, log_path=log_path)
        self.dc_blocker = dc_blocker(dc_block)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.decoder, 'images'), (self.reports, 'images'))
        self.msg_connect((self.encoder, 'symbols'), (self.framer, 'symbols'))
        self.msg_connect((self.framer, 'sent'), (self.rate, 'sent'))
        self.msg_connect((self.rate, 'images'), (self.encoder, 'images'))
        self.msg_connect((self.rate, 'credit'), (self.source, 'credit'))
        self.msg_connect((self.receiver, 'frames'), (self.decoder, 'frames'))
        self.msg_connect((self.receiver, 'frames'), (self.reports, 'frames'))
        self.msg_connect((self.source, 'images'), (self.rate, 'images'))
        self.connect((self.dc_blocker, 0), (self.receiver, 0))
        self.connect((self.framer, 0), (self.modulator, 0))
        self.connect((self.modulator, 0), (self.pad, 0))
        self.connect((self.pad, 0), (self.sink, 0))
        self.connect((self.radio_source, 0), (self.dc_blocker, 0))
        self.connect((self.radio_source, 0), (self.monitor, 0))


    def get_images(self):
        return self.images

    def set_images(self, images):
        self.images = images

    def get_model(self):
        return self.model

    def set_model(self, model):
        self.model = model

    def get_snr_db(self):
        return self.snr_db

    def set_snr_db(self, snr_db):
        self.snr_db = snr_db
        self.encoder.set_snr_db(self.snr_db)
        self.rate.set_snr_db(self.snr_db)

    def get_keep(self):
        return self.keep

    def set_keep(self, keep):
        self.keep = keep
        self.encoder.set_keep(self.keep)

    def get_frame_symbols(self):
        return self.frame_symbols

    def set_frame_symbols(self, frame_symbols):
        self.frame_symbols = frame_symbols

    def get_tx_rms(self):
        return self.tx_rms

    def set_tx_rms(self, tx_rms):
        self.tx_rms = tx_rms

    def get_guard(self):
        return self.guard

    def set_guard(self, guard):
        self.guard = guard

    def get_repeat(self):
        return self.repeat

    def set_repeat(self, repeat):
        self.repeat = repeat

    def get_max_side(self):
        return self.max_side

    def set_max_side(self, max_side):
        self.max_side = max_side

    def get_images_in_flight(self):
        return self.images_in_flight

    def set_images_in_flight(self, images_in_flight):
        self.images_in_flight = images_in_flight

    def get_samp_rate(self):
        return self.samp_rate

    def set_samp_rate(self, samp_rate):
        self.samp_rate = samp_rate
        self.sink.set_samplerate(int(self.samp_rate))
        self.radio_source.set_samplerate(int(self.samp_rate))

    def get_freq(self):
        return self.freq

    def set_freq(self, freq):
        self.freq = freq
        self.sink.set_frequency(int(self.freq))
        self.radio_source.set_frequency(int(self.freq))

    def get_bandwidth(self):
        return self.bandwidth

    def set_bandwidth(self, bandwidth):
        self.bandwidth = bandwidth
        self.sink.set_bandwidth(int(self.bandwidth))

    def get_uri(self):
        return self.uri

    def set_uri(self, uri):
        self.uri = uri

    def get_tx_atten(self):
        return self.tx_atten

    def set_tx_atten(self, tx_atten):
        self.tx_atten = tx_atten
        self.sink.set_attenuation(0,self.tx_atten)

    def get_buffer_size(self):
        return self.buffer_size

    def set_buffer_size(self, buffer_size):
        self.buffer_size = buffer_size

    def get_feedback(self):
        return self.feedback

    def set_feedback(self, feedback):
        self.feedback = feedback

    def get_policy(self):
        return self.policy

    def set_policy(self, policy):
        self.policy = policy

    def get_scheme(self):
        return self.scheme

    def set_scheme(self, scheme):
        self.scheme = scheme
        self.encoder.set_scheme(self.scheme, self.mcs)

    def get_mcs(self):
        return self.mcs

    def set_mcs(self, mcs):
        self.mcs = mcs
        self.encoder.set_scheme(self.scheme, self.mcs)

    def get_target_psnr(self):
        return self.target_psnr

    def set_target_psnr(self, target_psnr):
        self.target_psnr = target_psnr
        self.rate.set_target_psnr(self.target_psnr)

    def get_margin_db(self):
        return self.margin_db

    def set_margin_db(self, margin_db):
        self.margin_db = margin_db

    def get_budget_symbols(self):
        return self.budget_symbols

    def set_budget_symbols(self, budget_symbols):
        self.budget_symbols = budget_symbols

    def get_rate_table(self):
        return self.rate_table

    def set_rate_table(self, rate_table):
        self.rate_table = rate_table

    def get_safe_keep(self):
        return self.safe_keep

    def set_safe_keep(self, safe_keep):
        self.safe_keep = safe_keep

    def get_feedback_timeout(self):
        return self.feedback_timeout

    def set_feedback_timeout(self, feedback_timeout):
        self.feedback_timeout = feedback_timeout

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

    def get_rx_gain(self):
        return self.rx_gain

    def set_rx_gain(self, rx_gain):
        self.rx_gain = rx_gain
        self.radio_source.set_gain(0, self.rx_gain)

    def get_rx_buffer_size(self):
        return self.rx_buffer_size

    def set_rx_buffer_size(self, rx_buffer_size):
        self.rx_buffer_size = rx_buffer_size

    def get_dc_block(self):
        return self.dc_block

    def set_dc_block(self, dc_block):
        self.dc_block = dc_block



def argument_parser():
    description = 'Images -> TX -> PlutoSDR -> cable -> the same PlutoSDR -> RX -> images, feedback to the TX (made by scripts/make_gui_radio.py)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--images", dest="images", type=str, default='',
        help="Set Images [default=%(default)r]")
    parser.add_argument(
        "--model", dest="model", type=str, default='default',
        help="Set Model [default=%(default)r]")
    parser.add_argument(
        "--snr-db", dest="snr_db", type=eng_float, default=eng_notation.num_to_str(float(10.0)),
        help="Set SNR told to the encoder (dB) [default=%(default)r]")
    parser.add_argument(
        "--keep", dest="keep", type=intx, default=0,
        help="Set Keep (0 = all) [default=%(default)r]")
    parser.add_argument(
        "--frame-symbols", dest="frame_symbols", type=intx, default=1920,
        help="Set JSCC symbols per frame [default=%(default)r]")
    parser.add_argument(
        "--tx-rms", dest="tx_rms", type=eng_float, default=eng_notation.num_to_str(float(0.25)),
        help="Set Burst RMS [default=%(default)r]")
    parser.add_argument(
        "--guard", dest="guard", type=intx, default=400,
        help="Set Guard samples [default=%(default)r]")
    parser.add_argument(
        "--repeat", dest="repeat", type=intx, default=1,
        help="Set Repeat [default=%(default)r]")
    parser.add_argument(
        "--max-side", dest="max_side", type=intx, default=256,
        help="Set Max image side [default=%(default)r]")
    parser.add_argument(
        "--images-in-flight", dest="images_in_flight", type=intx, default=0,
        help="Set Images in flight (0 unbounded) [default=%(default)r]")
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
        "--uri", dest="uri", type=str, default='',
        help="Set IIO context URI (empty = first Pluto) [default=%(default)r]")
    parser.add_argument(
        "--tx-atten", dest="tx_atten", type=eng_float, default=eng_notation.num_to_str(float(30.0)),
        help="Set TX attenuation (dB) [default=%(default)r]")
    parser.add_argument(
        "--buffer-size", dest="buffer_size", type=intx, default=8192,
        help="Set Buffer size (samples) [default=%(default)r]")
    parser.add_argument(
        "--feedback", dest="feedback", type=str, default='',
        help="Set Feedback address (bind; empty = open loop) [default=%(default)r]")
    parser.add_argument(
        "--policy", dest="policy", type=str, default='target',
        help="Set Rate policy (target [default=%(default)r]")
    parser.add_argument(
        "--scheme", dest="scheme", type=str, default='jscc',
        help="Set Scheme (jscc, digital) [default=%(default)r]")
    parser.add_argument(
        "--mcs", dest="mcs", type=str, default='auto',
        help="Set MCS (digital; auto: closed loop) [default=%(default)r]")
    parser.add_argument(
        "--target-psnr", dest="target_psnr", type=eng_float, default=eng_notation.num_to_str(float(25.0)),
        help="Set Target PSNR (dB) [default=%(default)r]")
    parser.add_argument(
        "--margin-db", dest="margin_db", type=eng_float, default=eng_notation.num_to_str(float(0.5)),
        help="Set SNR margin (dB) [default=%(default)r]")
    parser.add_argument(
        "--budget-symbols", dest="budget_symbols", type=intx, default=0,
        help="Set JSCC symbols per image (budget) [default=%(default)r]")
    parser.add_argument(
        "--rate-table", dest="rate_table", type=str, default='',
        help="Set Rate-quality table (empty = calibrated) [default=%(default)r]")
    parser.add_argument(
        "--safe-keep", dest="safe_keep", type=intx, default=0,
        help="Set Keep without reports (0 = all) [default=%(default)r]")
    parser.add_argument(
        "--feedback-timeout", dest="feedback_timeout", type=eng_float, default=eng_notation.num_to_str(float(3.0)),
        help="Set Feedback timeout (s) [default=%(default)r]")
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
        "--rx-gain", dest="rx_gain", type=eng_float, default=eng_notation.num_to_str(float(40.0)),
        help="Set Manual RX gain (dB; the gain mode is set by semcom rx --agc) [default=%(default)r]")
    parser.add_argument(
        "--rx-buffer-size", dest="rx_buffer_size", type=intx, default=8192,
        help="Set Buffer size (samples) [default=%(default)r]")
    parser.add_argument(
        "--dc-block", dest="dc_block", type=intx, default=8192,
        help="Set DC blocker time constant (samples; 0: off) [default=%(default)r]")
    return parser


def main(top_block_cls=semcom_cable_pluto, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(images=options.images, model=options.model, snr_db=options.snr_db, keep=options.keep, frame_symbols=options.frame_symbols, tx_rms=options.tx_rms, guard=options.guard, repeat=options.repeat, max_side=options.max_side, images_in_flight=options.images_in_flight, samp_rate=options.samp_rate, freq=options.freq, bandwidth=options.bandwidth, uri=options.uri, tx_atten=options.tx_atten, buffer_size=options.buffer_size, feedback=options.feedback, policy=options.policy, scheme=options.scheme, mcs=options.mcs, target_psnr=options.target_psnr, margin_db=options.margin_db, budget_symbols=options.budget_symbols, rate_table=options.rate_table, safe_keep=options.safe_keep, feedback_timeout=options.feedback_timeout, model_id=options.model_id, out_dir=options.out_dir, reference=options.reference, log_path=options.log_path, snr_correction=options.snr_correction, rx_gain=options.rx_gain, rx_buffer_size=options.rx_buffer_size, dc_block=options.dc_block)

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
