"""Qt image view block for the RX GUI: shows the latest decoded image and its numbers.

Input port ``images``: the decoder's image dicts (with ``file``, ``est_snr_db``, ``keep``,
``frames_received``/``frame_count`` and, when known, ``psnr_db``). ``widget()`` returns the
QWidget to place in a Qt GUI flowgraph. Updates cross to the GUI thread through a Qt signal.
"""

from __future__ import annotations

import pmt
from gnuradio import gr
from PyQt5 import QtCore, QtGui, QtWidgets


class _View(QtWidgets.QWidget):
    update_image = QtCore.pyqtSignal(str, str)

    def __init__(self):
        super().__init__()
        self.picture = QtWidgets.QLabel("waiting for the first image")
        self.picture.setAlignment(QtCore.Qt.AlignCenter)
        self.picture.setMinimumSize(256, 256)
        self.caption = QtWidgets.QLabel("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption)
        self.update_image.connect(self._show)
        self.shown = 0

    @QtCore.pyqtSlot(str, str)
    def _show(self, path: str, text: str):
        pix = QtGui.QPixmap(path)
        if not pix.isNull():
            self.picture.setPixmap(pix.scaled(self.picture.size(), QtCore.Qt.KeepAspectRatio,
                                              QtCore.Qt.SmoothTransformation))
            self.shown += 1
        self.caption.setText(text)


class image_view(gr.basic_block):  # noqa: N801
    def __init__(self):
        gr.basic_block.__init__(self, name="semcom_image_view", in_sig=None, out_sig=None)
        self.view = _View()
        self.message_port_register_in(pmt.intern("images"))
        self.set_msg_handler(pmt.intern("images"), self.handle_image)

    def widget(self) -> QtWidgets.QWidget:
        return self.view

    def handle_image(self, msg):
        rec = pmt.to_python(msg)
        if not isinstance(rec, dict) or "file" not in rec:
            return
        q = f"  PSNR {rec['psnr_db']:.2f} dB" if "psnr_db" in rec else ""
        text = (f"image {rec['image_id']}  keep {rec['keep']}  frames {rec['frames_received']}/"
                f"{rec['frame_count']}  est. SNR {rec['est_snr_db']:.1f} dB{q}"
                f"{'  PARTIAL' if rec.get('partial') else ''}")
        self.view.update_image.emit(rec["file"], text)
