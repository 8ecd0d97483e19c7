"""JSCC networks, differentiable channels, training, evaluation and checkpoints.

Knows nothing of GNU Radio: the radio side wraps :class:`models.codec.JSCCCodec`. The built-in
architectures register themselves when imported (:mod:`models.registry` imports none of them);
importing them here registers them for any ``import models...``.
"""

from models import afjscc, deepjscc2019, softcast  # noqa: F401
from models.registry import architecture, available, create, register_model  # noqa: F401
