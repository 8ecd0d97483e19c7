"""A small model registry (CompressAI style): architectures by name."""

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


def _load_builtin() -> None:
    # Importing the modules registers their architectures.
    from models import afjscc, deepjscc2019, softcast  # noqa: F401


def available() -> dict[str, str]:
    _load_builtin()
    return dict(_DESCRIPTIONS)


def create(name: str, **config):
    _load_builtin()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; registered: "
                       f"{', '.join(sorted(_REGISTRY))}") from None
    return cls(**config)
