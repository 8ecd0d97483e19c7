"""Writes ``semcom_rx_gui_pluto.grc`` and ``semcom_rx_gui_usrp.grc``: the Qt receiver view
(``semcom_rx_gui.grc``) with its IQ source and throttle replaced by the radio graph's device
source and sample monitor (``semcom_rx_{pluto,usrp}.grc``), the device feeding the receiver and
the spectrum. Run after editing any of those three graphs, then ``semcom flowgraphs generate``::

    python scripts/make_gui_radio.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[1] / "flowgraphs"
DROP = {"source_kind", "source_address", "source", "throttle", "repeat"}


def variant(kind: str) -> dict:
    gui = yaml.safe_load((HERE / "semcom_rx_gui.grc").read_text())
    radio = yaml.safe_load((HERE / f"semcom_rx_{kind}.grc").read_text())
    have = {b["name"] for b in gui["blocks"]} - DROP
    blocks = [b for b in gui["blocks"] if b["name"] not in DROP]
    blocks += [b for b in radio["blocks"] if b["name"] not in have]
    conns = [[("source" if c[0] == "throttle" else c[0]), *c[1:]] for c in gui["connections"]]
    conns = [c for c in conns if c[0] not in DROP - {"source"} and c[2] not in DROP]
    conns.append(["source", "0", "monitor", "0"])
    opts = dict(gui["options"])
    params = dict(opts["parameters"])
    name = {"pluto": "PlutoSDR", "usrp": "USRP"}[kind]
    params.update(id=f"semcom_rx_gui_{kind}", title=f"semcom RX (GUI, {name})",
                  description=f"{name} RX with spectrum, equalised constellation, received "
                              "image and SNR (made by scripts/make_gui_radio.py)")
    opts["parameters"] = params
    return {"options": opts, "blocks": blocks, "connections": conns,
            "metadata": gui["metadata"]}


def main() -> None:
    for kind in ("pluto", "usrp"):
        path = HERE / f"semcom_rx_gui_{kind}.grc"
        path.write_text(yaml.safe_dump(variant(kind), sort_keys=False, width=100))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
