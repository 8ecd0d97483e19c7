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

# SNR keys: one name per quantity, in every PDU, log, report, record and output file, all in
# the product's convention (semcom.snr: energy of a sent JSCC symbol over the complex noise
# power on it after demodulation). Distinct quantities have distinct names; an alias is an older
# name still written beside the current one (or an output's own name for it), never a second
# meaning. Name -> what it is.
SNR_EST_DB, SNR_EST_RAW_DB, SNR_USED_DB, TX_SNR_DB, TRUE_SNR_DB = (
    "snr_est_db", "snr_est_raw_db", "snr_used_db", "tx_snr_db", "true_snr_db")
SNR_KEYS = {
    SNR_EST_DB: "the RX's per-frame estimate after the SNR correction (the calibrated value "
                "every consumer uses: frame PDUs, frame logs, reports, image records, datasets)",
    SNR_EST_RAW_DB: "the same estimate before the SNR correction (frame log only; equal to "
                    "snr_est_db when the RX runs uncorrected): what a calibration fits",
    SNR_USED_DB: "the TX controller's decision: the smoothed snr_est_db of the reports that the "
                 "policy planned with (None before the first report); the encoder is told it",
    TX_SNR_DB: "the SNR the encoder was told for an image (header field; the image PDU and "
               "the encoder's control dict carry it as snr_db)",
    TRUE_SNR_DB: "the channel's SNR where it is known (the emulator's setting, its truth log)",
    "snr_db": "a set SNR: the emulator's setting and schedules, a rate table's grid, the SNR "
              "told to the encoder in the image PDU and its control dict (SNR_DB); in reports "
              "and the digital decoder's image record the older name of snr_est_db",
    "est_snr_db": "older name of snr_est_db in image records (written beside it)",
    "policy_snr_db": "semcom loopback's summary name for snr_used_db",
    "snr_now_db": "the channel emulator's SNR at this moment (its status: a true SNR)",
    "time_domain_snr_db": "the emulator's per-sample SNR that gives snr_now_db after "
                          "demodulation (its status)",
    "measured_snr_db": "semcom dataset info: the SNR measured from received and sent symbols",
    "snr_ltf_db": "the RX's SNR estimate from the LTF alone (frame log: a frame whose header "
                  "failed, where no payload estimate exists)",
    "snr_grid_db": "the SNR correction file's grid of true SNRs it was fitted on",
}
