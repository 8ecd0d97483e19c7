"""semcom.report: the feedback report's one wire format (JSON in and out)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from semcom.report import FeedbackReport, ReportError


def _header():
    # the fields a frame report takes from a decoded header
    return SimpleNamespace(image_id=7, frame_idx=2, frame_count=9, keep=12)


def test_frame_report_round_trips_with_the_old_key_as_alias():
    r = FeedbackReport.frame(_header(), 12.3456, 0.05, {"frames_decoded": 4, "crc_fail": 1},
                             session="abc", seq=5, t=1.5)
    d = json.loads(r.to_json())
    assert d["snr_est_db"] == d["snr_db"] == 12.346          # snr_db: the name before
    assert (d["image_id"], d["frame_idx"], d["frame_count"], d["keep"]) == (7, 2, 9, 12)
    assert (d["frames_received"], d["crc_failures"], d["session"], d["seq"]) == (4, 1, "abc", 5)
    back = FeedbackReport.from_json(r.to_json())
    assert back == r


def test_image_report_round_trips_and_old_messages_still_parse():
    r = FeedbackReport.image({"image_id": 3, "partial": True, "est_snr_db": 8.0})
    d = json.loads(r.to_json())
    assert d["image_done"] == 3 and d["partial"] is True
    assert d["snr_est_db"] == d["est_snr_db"] == 8.0
    assert FeedbackReport.from_json(r.to_json()) == r
    # a message written before this module (only the old keys)
    old = FeedbackReport.from_json(json.dumps({"session": "s", "seq": 1, "t": 0.0,
                                               "snr_db": 9.5, "image_id": 2}))
    assert old.kind == "frame" and old.snr_est_db == 9.5 and old.image_id == 2
    assert math.isnan(old.noise_var)


@pytest.mark.parametrize("data", [b"\xff\xfe", b"[1, 2]", b"{}", b'{"snr_db": "x"}',
                                  b'{"snr_db": NaN}', b'{"snr_db": 1e999}',
                                  b'{"image_done": null}', b'{"snr_db": 5, "seq": "a"}',
                                  b"{" + b" " * 5000 + b"}"])
def test_anything_else_is_a_report_error(data):
    with pytest.raises(ReportError):
        FeedbackReport.from_json(data)
