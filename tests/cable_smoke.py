"""``semcom loopback --radio pluto --cable`` (or, with a first argument ``sweep``, ``semcom
calibrate radio --radio pluto --sweep=...``) in a process of its own, the Pluto's blocks replaced
by the ZMQ cable of tests/qa_radio_cable.py (used by the SIGTERM tests).

argv: [sweep] images folder, model, out dir. Exits as the CLI does (os._exit on an interrupt)."""

import sys

import pytest
from qa_radio_cable import _fake_devices

from semcom.cli import main

sweep = sys.argv[1] == "sweep"
images, model, out = sys.argv[1 + sweep:4 + sweep]
_fake_devices(pytest.MonkeyPatch(), "pluto")
sys.argv = (["semcom", "calibrate", "radio", "--radio", "pluto", "--sweep=-30,-20,-10,0",
             "--model", model, "--serial", "FAKE", "--out", out, "--sweep-frames", "100000"]
            if sweep else
            ["semcom", "loopback", "--radio", "pluto", "--cable", "--images", images, "--model",
             model, "--out", out, "--frame-symbols", "480", "--tx-atten", "10"])
sys.exit(main())
