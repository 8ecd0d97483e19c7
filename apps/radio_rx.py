"""The radio RX top blocks (``flowgraphs/semcom_rx_{pluto,usrp}.grc``: GNU Radio's own gr-iio /
gr-uhd sources) built from ``semcom rx`` options, and their one-line summary.

The Pluto source's length tag key is empty (by default gr-iio tags ``packet_len`` on every
buffer, which would collide with the PHY's own length tag); its gain mode (``--agc``:
slow_attack, fast_attack or manual with ``--rx-gain``) is set after construction because GRC's
enum cannot take a variable. A USRP's AGC (``--agc slow|fast``) is ``set_rx_agc(True)`` where the
device has one. :mod:`sdr_rx.radio_monitor` counts samples and overflows beside the receiver.
"""

from __future__ import annotations

from semcom.radio import PLUTO_AGC, Radio


def build_radio_rx(args, radio: Radio, gui: bool = False, **common):
    """-> the top block (opens the device); ``common``: the parameters every RX graph takes.
    ``gui``: the Qt receiver view's radio variant (``semcom_rx_gui_{pluto,usrp}.grc``, made
    by ``scripts/make_gui_radio.py``)."""
    common.update(samp_rate=args.samp_rate, freq=args.freq, bandwidth=args.bandwidth,
                  rx_gain=args.rx_gain)
    if gui:     # made inside open_radio's capture: Qt's start-up chatter stays there too
        from apps.rx_gui import application
        application()
    if radio.kind == "pluto":
        if gui:
            from flowgraphs.semcom_rx_gui_pluto import semcom_rx_gui_pluto as graph
        else:
            from flowgraphs.semcom_rx_pluto import semcom_rx_pluto as graph
        tb = graph(uri=radio.address, buffer_size=args.buffer_size, **common)
        tb.source.set_gain_mode(0, PLUTO_AGC[args.agc])
        if args.agc == "manual":
            tb.source.set_gain(0, args.rx_gain)
        apply_calibration(tb, args, radio)
        return tb
    if gui:
        from flowgraphs.semcom_rx_gui_usrp import semcom_rx_gui_usrp as graph
    else:
        from flowgraphs.semcom_rx_usrp import semcom_rx_usrp as graph
    tb = graph(dev_args=radio.address, agc=args.agc, **common)
    if args.agc != "manual":
        tb.source.set_rx_agc(True, 0)
    apply_calibration(tb, args, radio)
    return tb


def device_serial(tb, radio: Radio) -> str:
    """The opened radio's serial number ('' when it cannot be read)."""
    try:
        if radio.kind == "usrp":
            return str(dict(tb.source.get_usrp_info(0)).get("mboard_serial", ""))
        import iio
        uri = radio.address
        if not uri:
            from gnuradio import iio as gr_iio
            uri = gr_iio.get_pluto_uri()
        return str(iio.Context(uri).attrs.get("hw_serial", ""))
    except Exception:       # noqa: BLE001 - no serial, no calibration: never a failure
        return ""


def apply_calibration(tb, args, radio: Radio, serial: str | None = None) -> dict:
    """Tunes the RX by the carrier offset that ``semcom calibrate radio`` stored for this
    device (scaled in ppm to ``--freq``); -> what was applied (also in ``summary.json``)."""
    from calibration.radio_cal import load

    serial = device_serial(tb, radio) if serial is None else serial
    info: dict = {"serial": serial or None, "calibration": None}
    if serial and not getattr(args, "no_calibration", False):
        try:
            cal = load(serial)
        except (ValueError, OSError):
            cal = None
        cfo = (cal or {}).get("cfo") or {}
        if cfo.get("cfo_ppm") is not None:
            off = float(cfo["cfo_ppm"]) * args.freq / 1e6
            if radio.kind == "pluto":
                tb.source.set_frequency(int(round(args.freq + off)))
            else:
                tb.source.set_center_freq(args.freq + off, 0)
            info["calibration"] = {"freq_offset_hz": round(off, 1), "cfo_ppm": cfo["cfo_ppm"]}
    tb.monitor.monitor.extra.update(info)
    return info


def summary_line(radio: Radio, stats: dict) -> str:
    cal = stats.get("calibration")
    note = (f"; tuned {cal['freq_offset_hz']:+.0f} Hz by the calibration of serial "
            f"{stats['serial']}" if cal else "")
    return _counts_line(radio, stats) + note


def _counts_line(radio: Radio, stats: dict) -> str:
    if radio.kind == "usrp":
        return (f"{radio.name}: {stats['samples']} samples, {stats['overflows']} overflows "
                f"({stats['overflow_gap_samples']} samples lost in the largest gap)")
    return (f"{radio.name}: {stats['samples']} samples in {stats['elapsed_s']:.2f} s, "
            f"{stats['shortfall_samples']} short of the nominal rate (gr-iio reports no "
            "overflows: a shortfall is dropped samples)")
