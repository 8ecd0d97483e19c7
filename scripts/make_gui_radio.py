"""Writes the radio graphs made of others:

- ``semcom_rx_gui_{pluto,usrp}.grc``: the Qt receiver view (``semcom_rx_gui.grc``) with its IQ
  source and throttle replaced by the radio graph's device source and sample monitor
  (``semcom_rx_{pluto,usrp}.grc``), the device feeding the receiver and the spectrum;
- ``semcom_cable_{pluto,usrp}.grc``: one radio, one cable (``semcom loopback --cable``): the TX
  chain of ``semcom_tx_{kind}.grc`` and the RX chain of ``semcom_rx_{kind}.grc`` in one graph
  (the device opened by both its sink and its source), the RX's feedback reports sent to the
  TX's rate control at the same ``feedback`` address. RX names that clash are renamed: the
  device source ``radio_source``, the RX buffer ``rx_buffer_size``.

Run after editing any of those graphs, then ``semcom flowgraphs generate``::

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


RX_RENAME = {"source": "radio_source", "buffer_size": "rx_buffer_size"}


def cable(kind: str) -> dict:
    tx = yaml.safe_load((HERE / f"semcom_tx_{kind}.grc").read_text())
    rx = yaml.safe_load((HERE / f"semcom_rx_{kind}.grc").read_text())
    have = {b["name"] for b in tx["blocks"]}
    blocks = list(tx["blocks"])
    for b in rx["blocks"]:
        name = RX_RENAME.get(b["name"], b["name"])
        if name in have:
            continue                # a parameter both sides share (model, freq, feedback...)
        params = {k: (RX_RENAME.get(v, v) if isinstance(v, str) else v)
                  for k, v in b["parameters"].items()}
        blocks.append({**b, "name": name, "parameters": params})
    conns = list(tx["connections"]) + [[RX_RENAME.get(c[0], c[0]), c[1],
                                        RX_RENAME.get(c[2], c[2]), c[3]]
                                       for c in rx["connections"]]
    opts = dict(tx["options"])
    name = {"pluto": "PlutoSDR", "usrp": "USRP"}[kind]
    opts["parameters"] = dict(opts["parameters"], id=f"semcom_cable_{kind}",
                              title=f"semcom cable loopback (one {name})",
                              description=f"Images -> TX -> {name} -> cable -> the same {name} "
                                          "-> RX -> images, feedback to the TX (made by "
                                          "scripts/make_gui_radio.py)")
    return {"options": opts, "blocks": blocks, "connections": conns,
            "metadata": tx["metadata"]}


def main() -> None:
    for kind in ("pluto", "usrp"):
        for stem, make in ((f"semcom_rx_gui_{kind}", variant), (f"semcom_cable_{kind}", cable)):
            path = HERE / f"{stem}.grc"
            path.write_text(yaml.safe_dump(make(kind), sort_keys=False, width=100))
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
