"""Component defaults are declared once: every ``.block.yml`` parameter default (what GRC puts in
a new block) equals the default the component's Python constructor declares for that argument.

The ``make`` template names the constructor (``templates.imports``) and where each parameter
goes (positional ``${id}`` or ``name=${id}``); a parameter passed inside an expression, a
default that names a flowgraph variable (``samp_rate``) and a constructor argument without a
default are not compared (nothing is declared twice there).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BLOCKS = sorted((REPO / "flowgraphs").glob("*.block.yml"))


def constructor(doc: dict):
    """The callable the block's ``make`` template calls (from its ``imports`` line)."""
    m = re.fullmatch(r"from ([\w.]+) import (\w+)", doc["templates"]["imports"].strip())
    assert m, doc["templates"]["imports"]
    return getattr(importlib.import_module(m.group(1)), m.group(2))


def arguments(make: str) -> dict[str, str]:
    """Parameter id -> the constructor argument it is passed as (positional ones by the
    constructor's signature order, resolved by the caller: here ``#<position>``)."""
    first = make.strip().split("\n")[0]
    call = ast.parse(re.sub(r"\$\{(\w+)\}", r"__p_\1", first), mode="eval").body
    assert isinstance(call, ast.Call), first
    out = {}
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Name) and a.id.startswith("__p_"):
            out[a.id[4:]] = f"#{i}"
    for k in call.keywords:
        if isinstance(k.value, ast.Name) and k.value.id.startswith("__p_"):
            out[k.value.id[4:]] = k.arg
    return out


def yml_value(param: dict):
    """The default as the flowgraph would see it; None when it names a flowgraph variable."""
    raw = param.get("default")
    dtype = param.get("dtype", "raw")
    if raw is None:
        return None
    if dtype == "string":
        return str(raw)
    try:
        value = ast.literal_eval(str(raw))
    except (ValueError, SyntaxError):
        return None                  # an expression of the flowgraph's variables
    if dtype in ("float", "real"):
        return float(value)
    if dtype == "int":
        return int(value)
    if dtype == "bool":
        return bool(value)
    return value


def compared(path: Path) -> list[tuple[str, object, object]]:
    """(parameter id, .block.yml default, constructor default) for every comparable one."""
    doc = yaml.safe_load(path.read_text())
    sig = list(inspect.signature(constructor(doc)).parameters.values())
    where = arguments(doc["templates"]["make"])
    out = []
    for p in doc.get("parameters", []):
        arg = where.get(p["id"])
        if arg is None:
            continue
        sp = sig[int(arg[1:])] if arg.startswith("#") else \
            next(s for s in sig if s.name == arg)
        value = yml_value(p)
        if sp.default is inspect.Parameter.empty or value is None:
            continue
        out.append((p["id"], value, sp.default))
    return out


def test_the_mapping_sees_the_blocks():
    """The comparison reaches most parameters (a parser that matched none would pass)."""
    n = sum(len(compared(p)) for p in BLOCKS)
    assert n >= 30, n
    zmq = dict((k, (a, b)) for k, a, b in compared(REPO / "flowgraphs" /
                                                    "semcom_zmq_sink.block.yml"))
    assert set(zmq) == {"address", "connect"}
    assert arguments("f(${a}, 3, ${b}, key=${c})") == {"a": "#0", "b": "#2", "c": "key"}


@pytest.mark.parametrize("path", BLOCKS, ids=[p.name.split(".")[0] for p in BLOCKS])
def test_block_yml_defaults_equal_the_components(path):
    bad = [(pid, yml, py) for pid, yml, py in compared(path) if yml != py]
    assert not bad, f"{path.name}: (parameter, .block.yml default, component default): {bad}"
