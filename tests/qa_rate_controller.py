"""Rate controller and rate-quality table: policies, smoothing, hysteresis, bad feedback."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from apps.loopback import free_port
from calibration.rate_table import RateTable, RateTableError
from sdr_tx.rate_controller import RateController, Report


def table(model_hash="abcd" * 4) -> RateTable:
    # PSNR rises with SNR and keep (a made-up but monotone table)
    snrs = [0.0, 10.0, 20.0]
    keeps = [4, 8, 16, 32]
    psnr = [[18 + 0.2 * s + 1.0 * i for s in snrs] for i, _ in enumerate(keeps)]
    return RateTable(model_hash, 32, snrs, keeps, psnr)


def test_table_interpolates_and_round_trips(tmp_path):
    t = table()
    assert t.expected_psnr(8, 5.0) == pytest.approx(19 + 1.0)
    assert t.expected_psnr(12, 10.0) == pytest.approx((21 + 22) / 2)
    assert t.expected_psnr(32, 40.0) == pytest.approx(21 + 4)     # clamped
    t.save(tmp_path / "t.json")
    back = RateTable.load(tmp_path / "t.json", model_hash="abcd" * 4)
    assert back.psnr_db == t.psnr_db
    with pytest.raises(RateTableError, match="made for model abcdabcd"):
        RateTable.load(tmp_path / "t.json", model_hash="ffff" * 4)
    with pytest.raises(RateTableError, match="keep x SNR"):
        RateTable("x", 32, [0.0], [4, 8], [[1.0]])


def test_target_policy_picks_the_smallest_keep_that_meets_it():
    c = RateController(32, "target", table(), target_psnr=22.0, hysteresis_db=0.0,
                       margin_db=0.0)
    c.on_report(Report(0, 10.0), now=0.0)
    d = c.decide(now=0.1)
    # at 10 dB: keep 4 -> 20, 8 -> 21, 16 -> 22 (meets), so 16 (interpolated keeps in between)
    assert d.keep == 16 and d.expected_psnr_db >= 22.0
    # with a safety margin it plans for a lower SNR, so it sends more
    m = RateController(32, "target", table(), target_psnr=22.0, margin_db=1.0)
    m.on_report(Report(0, 10.0), now=0.0)
    assert m.decide(now=0.1).keep > 16
    assert c.decide(now=0.2).keep == d.keep
    assert d.snr_used_db == 10.0 and "changed" in d.reason


def test_budget_and_fixed_policies():
    b = RateController(32, "budget", table(), budget_symbols=10 * 100)
    b.on_report(Report(0, 10.0), now=0.0)
    assert b.decide(now=0.0, symbols_per_channel=100).keep == 10
    f = RateController(32, "fixed", fixed_keep=12)
    assert f.decide(now=0.0).keep == 12


def test_bad_feedback_keeps_the_controller_sane():
    c = RateController(32, "target", table(), target_psnr=22.0, timeout_s=2.0, safe_keep=24)
    assert c.decide(now=0.0).keep == 24 and "no report yet" in c.decide(now=0.0).reason
    for bad in (math.nan, math.inf, -80.0, 1e6):
        assert not c.on_report(Report(1, bad), now=0.0)
    assert c.rejected == 4 and c.snr is None
    assert c.on_report(Report(5, 20.0), now=0.0)
    assert not c.on_report(Report(5, 0.0), now=0.1)        # duplicate
    assert not c.on_report(Report(3, 0.0), now=0.2)        # out of order (delayed)
    assert c.ignored == 2 and c.snr == 20.0
    assert c.decide(now=1.0).keep < 24
    # feedback lost: after the time-out, back to the safe keep, and it says so
    d = c.decide(now=3.5)
    assert d.keep == 24 and "no report for" in d.reason
    # the RX restarted: its counter starts again under a new session id, and is accepted
    assert c.on_report(Report(0, 20.0, session="second-run"), now=4.0)


def test_keep_settles_within_three_images_after_a_10db_step():
    c = RateController(32, "target", table(), target_psnr=22.0, alpha=0.5, hysteresis_db=1.0)
    seq, keeps = 0, []
    for image in range(12):
        snr = 20.0 if image < 6 else 10.0
        for _ in range(6):                 # six frame reports per image
            c.on_report(Report(seq, snr), now=image)
            seq += 1
        keeps.append(c.decide(now=image).keep)
    settled = keeps[-1]
    assert keeps[6 + 2] == settled and settled > keeps[5]
    assert len(set(keeps[:6])) == 1        # no flapping at constant SNR


def test_feedback_link_over_zmq_feeds_the_controller():
    import time

    import zmq

    from sdr_rx.feedback import FeedbackSender
    from sdr_tx.feedback import FeedbackReceiver
    from semcom.report import FeedbackReport

    addr = f"tcp://127.0.0.1:{free_port()}"     # not a fixed one
    ctl = RateController(32, "target", table(), target_psnr=22.0)
    done = []
    rx_end = FeedbackReceiver(addr, ctl, on_image_done=done.append).start()
    try:
        tx_end = FeedbackSender(addr)
        junk = zmq.Context.instance().socket(zmq.PUSH)
        junk.connect(addr)
        junk.send(b"\xff\xfe not json")
        junk.send(b"[1, 2]")
        for i in range(5):
            tx_end.send(FeedbackReport("frame", 0, 12.0 + i, noise_var=0.05, frame_idx=i))
        tx_end.send(FeedbackReport("frame", 0, float("nan")))   # not a report: dropped
        tx_end.send(FeedbackReport("frame", 0, 500.0))          # a report, but nonsense
        tx_end.send(FeedbackReport("image", 0, 14.0, partial=False))
        deadline = time.monotonic() + 10
        while (not done or rx_end.reports < 7) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rx_end.bad == 3 and done and done[0].kind == "image" and done[0].image_id == 0
        assert ctl.rejected == 1 and ctl.snr is not None and 12.0 < ctl.snr <= 16.0
        assert ctl.session == tx_end.session
        junk.close(0)
        tx_end.close()
    finally:
        rx_end.stop()


def test_the_loops_defaults_are_declared_once():
    """The rate-control block, its .block.yml and the CLI take the controller's defaults."""
    import inspect

    import yaml

    from sdr_tx import rate_controller as rc
    from sdr_tx.rate_control import rate_control
    from semcom.cli import build_parser

    want = {"policy": rc.DEFAULT_POLICY, "target_psnr": rc.DEFAULT_TARGET_PSNR,
            "margin_db": rc.DEFAULT_MARGIN_DB, "feedback_timeout": rc.DEFAULT_FEEDBACK_TIMEOUT_S}
    sig = inspect.signature(rate_control.__init__).parameters
    yml = yaml.safe_load((Path(__file__).resolve().parents[1] / "flowgraphs" /
                          "semcom_rate_control.block.yml").read_text())
    ydef = {p["id"]: p["default"] for p in yml["parameters"]}
    for cmd in ("tx", "loopback"):
        args = vars(build_parser().parse_args([cmd]))
        for k, v in want.items():
            if k in args:
                assert args[k] == v, (cmd, k)
    for k, v in want.items():
        assert sig[k].default == v, k
        assert type(v)(ydef[k]) == v, k
