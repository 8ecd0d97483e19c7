"""Calibration: SNR-estimator correction, the rate-quality table behind pruning, device sweeps.

Each file written here names the model hash or device it belongs to and is versioned.
"""
