"""PDU metadata contract: the keys of the message PDUs between the TX's and RX's blocks, named
once here (every block reads and writes these names).

- Image PDU (image source -> rate control -> encoder): ``(meta, u8vector RGB)``; meta
  :data:`IMAGE`; the rate control adds :data:`DECISION` keys; the end-of-stream PDU has
  ``eos: True``.
- Latent PDU (encoder -> framer): ``(meta, c32vector)``; meta :data:`IMAGE` plus :data:`LATENT`.
- Frame PDU (OFDM receiver -> decoder, feedback sink): ``(meta, c32vector payload)``; meta the
  header's fields plus :data:`FRAME`.
- Image record (decoder ``images`` port -> image view, feedback sink): a dict with
  :data:`IMAGE_RECORD` among its keys.
- Control dict (encoder ``control`` port): :data:`CONTROL`.
- Sent notice (framer ``sent`` port -> rate control): :data:`SENT`.
"""

from __future__ import annotations

EOS = "eos"
IMAGE = ("name", "image_id", "height", "width")
# per-image decision of the TX's rate control, carried in the image PDU to the encoder (so it
# always applies to that very image): keep, the SNR told to the encoder, the decision record
KEEP, SNR_DB, DECISION_INFO = "keep", "snr_db", "decision"
DECISION = (KEEP, SNR_DB, DECISION_INFO)
LATENT = ("keep", "lat_h", "lat_w", "tx_snr_db", "channels", "model_hash", "t_encode", "side")
FRAME = ("snr_est_db", "noise_var", "cfo_hz", "timing", "noise_var_sym")
IMAGE_RECORD = ("image_id", "partial", "snr_est_db")   # est_snr_db: its older name, kept
CONTROL = (KEEP, SNR_DB)
SENT = ("image_id", "frames")
