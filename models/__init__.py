"""JSCC networks, differentiable channels, training, evaluation and checkpoints.

Knows nothing of GNU Radio: the radio side wraps :class:`models.codec.JSCCCodec`.
"""

from models.registry import available, create, register_model  # noqa: F401
