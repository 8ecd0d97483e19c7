#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: semcom RX (GUI, PlutoSDR)
# Author: semcom
# Description: PlutoSDR RX with spectrum, equalised constellation, received image and SNR (made by scripts/make_gui_radio.py)
# GNU Radio version: 3.10.5.1

from packaging.version import Version as StrictVersion

if __name__ == '__main__':
    import ctypes
    import sys
    if sys.platform.startswith('linux'):
        try:
            x11 = ctypes.cdll.LoadLibrary('libX11.so')
            x11.XInitThreads()
        except:
            print("Warning: failed to XInitThreads()")

from PyQt5 import Qt
from gnuradio import qtgui
from gnuradio.filter import firdes
import sip
from gnuradio import gr
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import gr, pdu
from gnuradio import iio
from sdr_rx.dc_blocker import dc_blocker
from sdr_rx.feedback_sink import feedback_sink
from sdr_rx.image_view import image_view
from sdr_rx.jscc_decoder import jscc_decoder
from sdr_rx.ofdm_receiver import ofdm_receiver
from sdr_rx.radio_monitor import radio_monitor



from gnuradio import qtgui

class semcom_rx_gui_pluto(gr.top_block, Qt.QWidget):

    def __init__(self, model='default', model_id='', out_dir='out/rx_gui', log_path='', snr_correction='', samp_rate=1e6, dc_block=8192, feedback='', max_side=256, reference='', freq=2.45e9, bandwidth=2e6, uri='', rx_gain=40.0, buffer_size=8192):
        gr.top_block.__init__(self, "semcom RX (GUI, PlutoSDR)", catch_exceptions=False)
        Qt.QWidget.__init__(self)
        self.setWindowTitle("semcom RX (GUI, PlutoSDR)")
        qtgui.util.check_set_qss()
        try:
            self.setWindowIcon(Qt.QIcon.fromTheme('gnuradio-grc'))
        except:
            pass
        self.top_scroll_layout = Qt.QVBoxLayout()
        self.setLayout(self.top_scroll_layout)
        self.top_scroll = Qt.QScrollArea()
        self.top_scroll.setFrameStyle(Qt.QFrame.NoFrame)
        self.top_scroll_layout.addWidget(self.top_scroll)
        self.top_scroll.setWidgetResizable(True)
        self.top_widget = Qt.QWidget()
        self.top_scroll.setWidget(self.top_widget)
        self.top_layout = Qt.QVBoxLayout(self.top_widget)
        self.top_grid_layout = Qt.QGridLayout()
        self.top_layout.addLayout(self.top_grid_layout)

        self.settings = Qt.QSettings("GNU Radio", "semcom_rx_gui_pluto")

        try:
            if StrictVersion(Qt.qVersion()) < StrictVersion("5.0.0"):
                self.restoreGeometry(self.settings.value("geometry").toByteArray())
            else:
                self.restoreGeometry(self.settings.value("geometry"))
        except:
            pass

        ##################################################
        # Parameters
        ##################################################
        self.model = model
        self.model_id = model_id
        self.out_dir = out_dir
        self.log_path = log_path
        self.snr_correction = snr_correction
        self.samp_rate = samp_rate
        self.dc_block = dc_block
        self.feedback = feedback
        self.max_side = max_side
        self.reference = reference
        self.freq = freq
        self.bandwidth = bandwidth
        self.uri = uri
        self.rx_gain = rx_gain
        self.buffer_size = buffer_size

        ##################################################
        # Blocks
        ##################################################

        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, 'packet_len')
        self.spectrum = qtgui.freq_sink_c(
            1024, #size
            window.WIN_BLACKMAN_hARRIS, #wintype
            0, #fc
            samp_rate, #bw
            'Spectrum', #name
            1,
            None # parent
        )
        self.spectrum.set_update_time(0.10)
        self.spectrum.set_y_axis((-140), 10)
        self.spectrum.set_y_label('Relative Gain', 'dB')
        self.spectrum.set_trigger_mode(qtgui.TRIG_MODE_FREE, 0.0, 0, "")
        self.spectrum.enable_autoscale(False)
        self.spectrum.enable_grid(False)
        self.spectrum.set_fft_average(0.2)
        self.spectrum.enable_axis_labels(True)
        self.spectrum.enable_control_panel(False)
        self.spectrum.set_fft_window_normalized(False)



        labels = ['', '', '', '', '',
            '', '', '', '', '']
        widths = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        colors = ["blue", "red", "green", "black", "cyan",
            "magenta", "yellow", "dark red", "dark green", "dark blue"]
        alphas = [1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0]

        for i in range(1):
            if len(labels[i]) == 0:
                self.spectrum.set_line_label(i, "Data {0}".format(i))
            else:
                self.spectrum.set_line_label(i, labels[i])
            self.spectrum.set_line_width(i, widths[i])
            self.spectrum.set_line_color(i, colors[i])
            self.spectrum.set_line_alpha(i, alphas[i])

        self._spectrum_win = sip.wrapinstance(self.spectrum.qwidget(), Qt.QWidget)
        self.top_grid_layout.addWidget(self._spectrum_win, 0, 0, 1, 1)
        for r in range(0, 1):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(0, 1):
            self.top_grid_layout.setColumnStretch(c, 1)
        self.source = iio.fmcomms2_source_fc32(uri if uri else iio.get_pluto_uri(), [True, True], buffer_size)
        self.source.set_len_tag_key('')
        self.source.set_frequency(int(freq))
        self.source.set_samplerate(int(samp_rate))
        self.source.set_gain_mode(0, 'slow_attack')
        self.source.set_gain(0, rx_gain)
        self.source.set_quadrature(True)
        self.source.set_rfdc(True)
        self.source.set_bbdc(True)
        self.source.set_filter_params('Auto', '', 0, 0)
        self.reports = feedback_sink(feedback, log_path)
        self.receiver = ofdm_receiver(samp_rate, model_id, log_path, snr_correction=snr_correction)
        self.monitor = radio_monitor(samp_rate)
        self.image_view = image_view()
        self._image_view_win = self.image_view.widget()
        self.top_grid_layout.addWidget(self._image_view_win, 0, 1, 1, 1)
        for r in range(0, 1):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(1, 2):
            self.top_grid_layout.setColumnStretch(c, 1)
        self.decoder = jscc_decoder(model, out_dir, reference, 0, 2.0, 1, max_side=max_side, log_path=log_path)
        self.dc_blocker = dc_blocker(dc_block)
        self.constellation = qtgui.const_sink_c(
            1024, #size
            'Equalised JSCC symbols', #name
            1, #number of inputs
            None # parent
        )
        self.constellation.set_update_time(0.10)
        self.constellation.set_y_axis((-2), 2)
        self.constellation.set_x_axis((-2), 2)
        self.constellation.set_trigger_mode(qtgui.TRIG_MODE_FREE, qtgui.TRIG_SLOPE_POS, 0.0, 0, "")
        self.constellation.enable_autoscale(False)
        self.constellation.enable_grid(False)
        self.constellation.enable_axis_labels(True)


        labels = ['', '', '', '', '',
            '', '', '', '', '']
        widths = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        colors = ["blue", "red", "red", "red", "red",
            "red", "red", "red", "red", "red"]
        styles = [0, 0, 0, 0, 0,
            0, 0, 0, 0, 0]
        markers = [0, 0, 0, 0, 0,
            0, 0, 0, 0, 0]
        alphas = [1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0]

        for i in range(1):
            if len(labels[i]) == 0:
                self.constellation.set_line_label(i, "Data {0}".format(i))
            else:
                self.constellation.set_line_label(i, labels[i])
            self.constellation.set_line_width(i, widths[i])
            self.constellation.set_line_color(i, colors[i])
            self.constellation.set_line_style(i, styles[i])
            self.constellation.set_line_marker(i, markers[i])
            self.constellation.set_line_alpha(i, alphas[i])

        self._constellation_win = sip.wrapinstance(self.constellation.qwidget(), Qt.QWidget)
        self.top_grid_layout.addWidget(self._constellation_win, 1, 0, 1, 2)
        for r in range(1, 2):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(0, 2):
            self.top_grid_layout.setColumnStretch(c, 1)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.decoder, 'images'), (self.image_view, 'images'))
        self.msg_connect((self.decoder, 'images'), (self.reports, 'images'))
        self.msg_connect((self.receiver, 'frames'), (self.decoder, 'frames'))
        self.msg_connect((self.receiver, 'frames'), (self.reports, 'frames'))
        self.msg_connect((self.receiver, 'frames'), (self.to_stream, 'pdus'))
        self.connect((self.dc_blocker, 0), (self.receiver, 0))
        self.connect((self.source, 0), (self.dc_blocker, 0))
        self.connect((self.source, 0), (self.monitor, 0))
        self.connect((self.source, 0), (self.spectrum, 0))
        self.connect((self.to_stream, 0), (self.constellation, 0))


    def closeEvent(self, event):
        self.settings = Qt.QSettings("GNU Radio", "semcom_rx_gui_pluto")
        self.settings.setValue("geometry", self.saveGeometry())
        self.stop()
        self.wait()

        event.accept()

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
        self.spectrum.set_frequency_range(0, self.samp_rate)
        self.source.set_samplerate(int(self.samp_rate))

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

    def get_reference(self):
        return self.reference

    def set_reference(self, reference):
        self.reference = reference

    def get_freq(self):
        return self.freq

    def set_freq(self, freq):
        self.freq = freq
        self.source.set_frequency(int(self.freq))

    def get_bandwidth(self):
        return self.bandwidth

    def set_bandwidth(self, bandwidth):
        self.bandwidth = bandwidth

    def get_uri(self):
        return self.uri

    def set_uri(self, uri):
        self.uri = uri

    def get_rx_gain(self):
        return self.rx_gain

    def set_rx_gain(self, rx_gain):
        self.rx_gain = rx_gain
        self.source.set_gain(0, self.rx_gain)

    def get_buffer_size(self):
        return self.buffer_size

    def set_buffer_size(self, buffer_size):
        self.buffer_size = buffer_size



def argument_parser():
    description = 'PlutoSDR RX with spectrum, equalised constellation, received image and SNR (made by scripts/make_gui_radio.py)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--model", dest="model", type=str, default='default',
        help="Set Model [default=%(default)r]")
    parser.add_argument(
        "--model-id", dest="model_id", type=str, default='',
        help="Set Model id to accept (hex) [default=%(default)r]")
    parser.add_argument(
        "--out-dir", dest="out_dir", type=str, default='out/rx_gui',
        help="Set Image folder [default=%(default)r]")
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
    parser.add_argument(
        "--reference", dest="reference", type=str, default='',
        help="Set Original images (PSNR/SSIM) [default=%(default)r]")
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
        "--rx-gain", dest="rx_gain", type=eng_float, default=eng_notation.num_to_str(float(40.0)),
        help="Set Manual RX gain (dB; the gain mode is set by semcom rx --agc) [default=%(default)r]")
    parser.add_argument(
        "--buffer-size", dest="buffer_size", type=intx, default=8192,
        help="Set Buffer size (samples) [default=%(default)r]")
    return parser


def main(top_block_cls=semcom_rx_gui_pluto, options=None):
    if options is None:
        options = argument_parser().parse_args()

    if StrictVersion("4.5.0") <= StrictVersion(Qt.qVersion()) < StrictVersion("5.0.0"):
        style = gr.prefs().get_string('qtgui', 'style', 'raster')
        Qt.QApplication.setGraphicsSystem(style)
    qapp = Qt.QApplication(sys.argv)

    tb = top_block_cls(model=options.model, model_id=options.model_id, out_dir=options.out_dir, log_path=options.log_path, snr_correction=options.snr_correction, samp_rate=options.samp_rate, dc_block=options.dc_block, feedback=options.feedback, max_side=options.max_side, reference=options.reference, freq=options.freq, bandwidth=options.bandwidth, uri=options.uri, rx_gain=options.rx_gain, buffer_size=options.buffer_size)

    tb.start()

    tb.show()

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()

        Qt.QApplication.quit()

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    timer = Qt.QTimer()
    timer.start(500)
    timer.timeout.connect(lambda: None)

    qapp.exec_()

if __name__ == '__main__':
    main()
