"""Run the generated Qt RX GUI offscreen for a few seconds on a cf32 file (used by a test).

argv: IQ file, model, out dir, seconds[, screenshot.png].
Prints JSON: images decoded, images shown."""

import json
import sys

from PyQt5 import Qt

from flowgraphs.semcom_rx_gui import semcom_rx_gui

iq, model, out, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
app = Qt.QApplication(sys.argv)
tb = semcom_rx_gui(source_kind="file", source_address=iq, model=model, out_dir=out,
                   samp_rate=2e6)
tb.resize(1100, 800)
tb.start()
tb.show()
if len(sys.argv) > 5:   # optional screenshot, taken just before quitting
    Qt.QTimer.singleShot(int(seconds * 1000) - 200, lambda: tb.grab().save(sys.argv[5]))
Qt.QTimer.singleShot(int(seconds * 1000), app.quit)
app.exec_()
tb.stop()
tb.wait()
print(json.dumps({"decoded": len(tb.decoder.results), "shown": tb.image_view.view.shown,
                  "caption": tb.image_view.view.caption.text()}))
