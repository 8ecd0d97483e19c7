"""Receiver side: sync, equalisation, SNR estimate, reassembly, JSCC decoder, metrics.

Never imports sdr_tx: what both sides agree on lives in :mod:`semcom`.
"""
