"""Fuzzing the receiver: thousands of crafted frames with valid CRCs (random fields, fields
that fit the model but claim huge or inconsistent images, truncated payloads, side frames of
garbage), NaN and Inf samples and noise bursts, then a valid transmission: the RX keeps
running, stays bounded in memory, counts what it dropped, and decodes what follows."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from calibration.pipeline import modulate
from models import create
from models.checkpoint import save_checkpoint
from semcom import numerology as nm
from semcom.header import FIELDS, FLAG_SIDE, Header, encode_header, model_id_from_hash
from tests import phy_helpers as ph


def _crafted(rng, model_id: int, n: int) -> list[np.ndarray]:
    vecs = []
    for i in range(n):
        kind = i % 4
        if kind == 0:        # every field random (most fail validation after the CRC)
            vals = {name: int(rng.integers(0, 1 << w)) for name, w in FIELDS}
            vals.pop("version")
            h = Header(**{k: v for k, v in vals.items() if k in Header.__dataclass_fields__})
        else:                # this model's id and C, image sizes from tiny to huge
            side = int(rng.choice([1, 7, 64, 250, 60000]))
            wide = int(rng.choice([1, 9, 96, 640, 4096]))
            lat_h, lat_w = -(-side // 8), -(-wide // 8)
            if kind == 3:
                lat_h += int(rng.integers(1, 3))          # inconsistent with the image size
            count = int(rng.integers(1, 6))
            h = Header(model_id=model_id, image_id=int(rng.integers(0, 50)),
                       seq=int(rng.integers(0, 65536)), frame_idx=int(rng.integers(0, count)),
                       frame_count=count, keep=int(rng.integers(1, 33)), channels=32,
                       lat_h=lat_h & 0xFFF, lat_w=lat_w & 0xFFF, img_h=side & 0xFFFF,
                       img_w=wide & 0xFFFF, payload_len=int(rng.integers(1, 1400)),
                       flags=FLAG_SIDE if rng.random() < 0.3 else 0, session=0)
        # payloads shorter than claimed (the next burst cuts them), or of garbage
        n_pay = max(0, min(h.payload_len, int(rng.integers(0, 600))))
        pay = (rng.standard_normal(n_pay) + 1j * rng.standard_normal(n_pay)).astype(np.complex64)
        pad = (-n_pay) % nm.N_DATA
        vecs.append(np.concatenate([encode_header(h), pay, np.zeros(pad, np.complex64)]))
    return vecs


@pytest.mark.slow
def test_rx_survives_crafted_frames_and_decodes_what_follows(tmp_path, run_flowgraph):
    from sdr_rx.framelog import FrameLog
    from sdr_rx.jscc_decoder import jscc_decoder
    from sdr_rx.stream_receiver import StreamReceiver

    model = tmp_path / "softcast.pt"
    digest = save_checkpoint(create("softcast"), model, {"data": "none"})
    images = ph.test_images(tmp_path / "imgs", n=2, size=(64, 96))
    rng = np.random.default_rng(11)
    junk = modulate(_crafted(rng, model_id_from_hash(digest), 2000))
    # NaN / Inf samples and noise bursts sprinkled over the crafted stream
    junk[rng.integers(0, junk.size, 50)] = np.nan
    junk[rng.integers(0, junk.size, 50)] = np.inf
    for start in rng.integers(0, junk.size - 5000, 30):
        junk[start:start + 3000] += (rng.standard_normal(3000) * 0.3).astype(np.complex64)
    valid = ph.tx_samples(run_flowgraph, images, model, frame_symbols=960)
    stream = np.concatenate([junk, np.zeros(2000, np.complex64),
                             ph.through_channel(run_flowgraph, valid, 25.0)])
    log = FrameLog()
    rx = StreamReceiver(log=log, model_id=model_id_from_hash(digest))
    dec = jscc_decoder(str(model), log=log, reference=str(images))
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(0, stream.size, 65536):
        for frame in rx.push(stream[i:i + 65536]):
            dec.add_frame(frame)
    for frame in rx.drain():
        dec.add_frame(frame)
    dec.flush()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_kb) / 1024
    c = log.summary()
    assert grown_mb < 1024, f"the RX grew by {grown_mb:.0f} MB"
    assert c.get("frames_rejected", 0) > 100            # foreign geometry, caught before use
    assert c.get("crc_fail", 0) + c.get("frames_rejected", 0) > 500
    good = [r for r in dec.results if r.get("session") != 0 and not r.get("lost")]
    assert sorted(r["image_id"] for r in good) == [0, 1]
    assert all(r["psnr_db"] > 25 for r in good)


def test_decode_failure_is_counted_and_bugs_stay_loud(tmp_path, monkeypatch):
    from sdr_rx.jscc_decoder import jscc_decoder

    model = ph.tiny_checkpoint(tmp_path / "a.pt")
    dec = jscc_decoder(str(model))

    class F:
        def __init__(self, image_id):
            self.header = Header(model_id=0, image_id=image_id, seq=image_id, frame_idx=0,
                                 frame_count=1, keep=32, channels=32, lat_h=2, lat_w=2,
                                 img_h=16, img_w=16, payload_len=128, session=3)
            self.symbols = np.ones(128, np.complex64)
            self.noise_var = np.full(128, 0.1, np.float32)
            self.snr_db = 10.0

    def bad_input(*a, **k):
        raise ValueError("shape from the air")
    monkeypatch.setattr(dec.codec, "decode", bad_input)
    dec.add_frame(F(0))
    dec.wait_idle()                       # decoding runs in the decoder's own thread
    assert dec.results[-1]["lost"] and dec.results[-1]["cause"] == "decode_error"
    assert dec.log.summary()["images_lost_decode_error"] == 1

    def bug(*a, **k):
        raise AttributeError("a bug in semcom")
    monkeypatch.setattr(dec.codec, "decode", bug)
    with pytest.raises(AttributeError):
        dec.add_frame(F(1))
        dec.wait_idle()
