"""A small model registry (CompressAI style): architectures by name.

The registry imports no architecture: each architecture module registers itself with
:func:`register_model` when it is imported, and the package (``models/__init__.py``) imports
the built-in ones, so that any ``import models...`` has them registered (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_model(name: str, description: str = ""):
    """Class decorator: ``@register_model("afjscc")`` makes ``create("afjscc", **cfg)`` work."""
    def deco(cls):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = cls
        _DESCRIPTIONS[name] = description or (cls.__doc__ or "").strip().split("\n")[0]
        cls.arch_name = name
        return cls
    return deco


def available() -> dict[str, str]:
    return dict(_DESCRIPTIONS)


def architecture(name: str) -> Callable:
    """The registered class of ``name`` (KeyError naming the registered ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; registered: "
                       f"{', '.join(sorted(_REGISTRY))}") from None


def create(name: str, **config):
    return architecture(name)(**config)
