"""``semcom loopback --radio pluto --cable`` in a process of its own, the Pluto's blocks replaced
by the ZMQ cable of tests/test_radio_cable.py (used by its SIGTERM test).

argv: images folder, model, out dir. Exits as the CLI does (os._exit on an interrupt)."""

import sys

import pytest
from test_radio_cable import _fake_devices

from semcom.cli import main

images, model, out = sys.argv[1:4]
_fake_devices(pytest.MonkeyPatch(), "pluto")
sys.argv = ["semcom", "loopback", "--radio", "pluto", "--cable", "--images", images, "--model",
            model, "--out", out, "--frame-symbols", "480", "--tx-atten", "10"]
sys.exit(main())
