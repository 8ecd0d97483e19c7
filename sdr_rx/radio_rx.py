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


def build_radio_rx(args, radio: Radio, **common):
    """-> the top block (opens the device); ``common``: the parameters every RX graph takes."""
    common.update(samp_rate=args.samp_rate, freq=args.freq, bandwidth=args.bandwidth,
                  rx_gain=args.rx_gain)
    if radio.kind == "pluto":
        from flowgraphs.semcom_rx_pluto import semcom_rx_pluto
        tb = semcom_rx_pluto(uri=radio.address, buffer_size=args.buffer_size, **common)
        tb.source.set_gain_mode(0, PLUTO_AGC[args.agc])
        if args.agc == "manual":
            tb.source.set_gain(0, args.rx_gain)
        return tb
    from flowgraphs.semcom_rx_usrp import semcom_rx_usrp
    tb = semcom_rx_usrp(dev_args=radio.address, agc=args.agc, **common)
    if args.agc != "manual":
        tb.source.set_rx_agc(True, 0)
    return tb


def summary_line(radio: Radio, stats: dict) -> str:
    if radio.kind == "usrp":
        return (f"{radio.name}: {stats['samples']} samples, {stats['overflows']} overflows "
                f"({stats['overflow_gap_samples']} samples lost in the largest gap)")
    return (f"{radio.name}: {stats['samples']} samples in {stats['elapsed_s']:.2f} s, "
            f"{stats['shortfall_samples']} short of the nominal rate (gr-iio reports no "
            "overflows: a shortfall is dropped samples)")
