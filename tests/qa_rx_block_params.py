"""The RX graph is the whole receiver: the frame log and the SNR correction are block
parameters (set in the .grc), not wired from outside by the app."""

from __future__ import annotations

import numpy as np
import pytest

from flowgraphs.semcom_rx import semcom_rx
from semcom.snr_correction import DEFAULT_PATH, SnrCorrection, from_option


def _iq(tmp_path) -> str:
    path = tmp_path / "zeros.cf32"
    np.zeros(1000, np.complex64).tofile(path)
    return str(path)


def test_blocks_given_one_log_path_share_one_log(tmp_path):
    tb = semcom_rx(source_kind="file", source_address=_iq(tmp_path),
                   log_path=str(tmp_path / "frames.jsonl"), out_dir=str(tmp_path / "out"))
    assert tb.receiver.log is tb.decoder.log is tb.reports.log
    tb.receiver.log.count("frames_decoded")
    assert tb.decoder.log.summary()["frames_decoded"] == 1
    tb.receiver.log.close()
    # a closed log is not handed out again: the next graph on that path starts from zero
    tb2 = semcom_rx(source_kind="file", source_address=_iq(tmp_path),
                    log_path=str(tmp_path / "frames.jsonl"), out_dir=str(tmp_path / "out"))
    assert tb2.receiver.log is not tb.receiver.log
    assert tb2.decoder.log.summary()["frames_decoded"] == 0
    tb2.receiver.log.close()


def test_without_a_log_path_each_block_keeps_its_own_counters(tmp_path):
    tb = semcom_rx(source_kind="file", source_address=_iq(tmp_path))
    assert tb.receiver.log is not tb.decoder.log and tb.reports.log is None


def test_snr_correction_is_a_receiver_parameter(tmp_path):
    src = dict(source_kind="file", source_address=_iq(tmp_path))
    assert semcom_rx(**src, snr_correction="none").receiver.rx.snr_correction is None
    shipped = semcom_rx(**src).receiver.rx.snr_correction
    assert (shipped is not None) == DEFAULT_PATH.exists()
    if shipped is not None:
        assert isinstance(shipped, SnrCorrection)
    corr = SnrCorrection([0.0, 20.0], [1.0, 1.0])       # the estimate reads 1 dB high
    corr.save(tmp_path / "c.json")
    got = semcom_rx(**src, snr_correction=str(tmp_path / "c.json")).receiver.rx.snr_correction
    assert abs(got(11.0) - corr(11.0)) < 1e-9 and abs(got(11.0) - 10.0) < 0.5
    with pytest.raises(FileNotFoundError, match="no such SNR correction file"):
        from_option(tmp_path / "typo.json")
