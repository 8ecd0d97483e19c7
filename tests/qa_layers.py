"""The packages' layers: every import runs down the chain, and no module imports itself back.

    cli (semcom.cli, semcom.__main__) -> apps (apps, calibration) -> flowgraphs
        -> sdr_tx | sdr_rx | channel -> models -> semcom (the ground: wire contracts, data)

The imports are read from the source with ``ast`` (nothing is imported), function-level
(lazy) imports included: a lazy import that runs back up is still a back-edge. ``sdr_tx``,
``sdr_rx`` and ``channel`` are peers that never import one another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("semcom", "models", "sdr_tx", "sdr_rx", "channel", "flowgraphs", "calibration",
            "apps")
LAYER = {"semcom": 0, "models": 1, "sdr_tx": 2, "sdr_rx": 2, "channel": 2, "flowgraphs": 3,
         "apps": 4, "calibration": 4, "cli": 5}
PEERS = {"sdr_tx", "sdr_rx", "channel"}       # same layer, never import one another

# Back-edges in modules outside this step's reach, named so that a new one fails and a fixed
# one must be struck off here (the test asserts the exact set). None left.
KNOWN: set[tuple[str, str]] = set()
# module cycles outside this step's reach. None left: the model registry imports no
# architecture (each registers itself; models/__init__.py imports them).
KNOWN_CYCLES: set[frozenset] = set()


def package_of(mod: str) -> str:
    if mod == "semcom.__main__" or mod == "semcom.cli" or mod.startswith("semcom.cli."):
        return "cli"
    return mod.split(".")[0]


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        root = REPO / pkg
        if not root.is_dir():
            continue
        for f in root.rglob("*.py"):
            parts = list(f.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def imports(mod: str, path: Path, known: dict) -> set[str]:
    """Project modules ``mod`` imports (a ``from pkg import name`` of a submodule counts as
    that submodule)."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".")
                base = base[:len(base) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target
                     for a in node.names]
        for n in names:
            # the longest known module the name is in
            parts = n.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts and parts[0] in PACKAGES:
                found.add(".".join(parts))
    found.discard(mod)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, mods) for m, p in mods.items()}


def back_edges(g: dict[str, set[str]]) -> set[tuple[str, str]]:
    bad = set()
    for a, deps in g.items():
        pa = package_of(a)
        for b in deps:
            pb = package_of(b)
            if pa == pb:
                continue
            if LAYER[pb] > LAYER[pa] or (LAYER[pb] == LAYER[pa] and pa in PEERS):
                bad.add((a, b))
    return bad


def cycles(g: dict[str, set[str]]) -> set[frozenset]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), set()
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.add(frozenset(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_the_chain():
    """The walk itself: it finds the edges that make up the chain (a walk that saw nothing
    would pass every check below)."""
    g = graph()
    assert "flowgraphs.semcom_tx" in g["apps.tx"]
    assert "sdr_tx.jscc_encoder" in g["flowgraphs.semcom_tx"]
    assert "models.codec" in g["sdr_tx.jscc_encoder"]
    assert "semcom.header" in g["models.codec"]
    assert "apps.tx" in g["semcom.cli.tx"]


def test_a_back_edge_and_a_cycle_are_caught():
    g = {"semcom.header": {"models.codec"}, "models.codec": {"semcom.header"},
         "sdr_tx.framer": {"sdr_rx.sync"}, "sdr_rx.sync": set(), "apps.tx": {"semcom.cli"},
         "semcom.cli": set()}
    assert back_edges(g) == {("semcom.header", "models.codec"),
                             ("sdr_tx.framer", "sdr_rx.sync"), ("apps.tx", "semcom.cli")}
    assert cycles(g) == {frozenset({"semcom.header", "models.codec"})}


def test_every_import_runs_down_the_layers():
    found = back_edges(graph())
    new = sorted(found - KNOWN)
    assert not new, "imports that run back up the layers:\n" + "\n".join(
        f"  {a} -> {b}" for a, b in new)
    fixed = sorted(KNOWN - found)
    assert not fixed, "fixed (strike them off KNOWN): " + ", ".join(f"{a}->{b}" for a, b in fixed)


def test_no_import_cycles():
    found = cycles(graph())
    new = [sorted(c) for c in found - KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"


@pytest.mark.parametrize("side,other", [("sdr_tx", "sdr_rx"), ("sdr_rx", "sdr_tx")])
def test_tx_and_rx_never_import_each_other(side, other):
    g = graph()
    bad = [(a, b) for a, deps in g.items() if a.startswith(side + ".")
           for b in deps if b.startswith(other + ".") or b == other]
    assert not bad


def test_flowgraphs_holds_only_graphs_and_their_tools():
    """Logic lives in the packages: flowgraphs/ has the .grc files, their .block.yml, the top
    blocks grcc generates from them (one per .grc) and the tools that run grcc."""
    fg = REPO / "flowgraphs"
    grcs = {p.stem for p in fg.glob("*.grc")}
    py = {p.stem for p in fg.glob("*.py")}
    assert grcs, "no .grc files found"
    assert py - grcs == {"__init__", "tools"}, sorted(py - grcs - {"__init__", "tools"})
    other = {p.name for p in fg.iterdir() if p.is_file()
             and not p.name.endswith((".grc", ".block.yml", ".py"))}
    assert not other, sorted(other)


def test_the_training_channel_uses_the_phys_data_carriers():
    """models.channels' OFDM multipath puts symbols on the carriers the PHY sends them on."""
    from models.channels import OFDMMultipath
    from semcom import numerology as nm

    bins = sorted(int(b) for b in OFDMMultipath("incp").carriers)
    assert bins == sorted(k % nm.FFT_LEN for k in nm.DATA_CARRIERS)
    assert not {k % nm.FFT_LEN for k in nm.PILOT_CARRIERS} & set(bins)


def test_cli_defaults_come_from_the_components():
    """--max-side and --samp-rate defaults are declared once (semcom.images, semcom.ofdm), not
    as numbers in each subcommand."""
    import re

    for f in (REPO / "semcom" / "cli").glob("*.py"):
        text = f.read_text()
        for flag in ("--max-side", "--samp-rate"):
            for m in re.finditer(rf'"{flag}"[^)]*default=([^,)\s]+)', text):
                assert not re.fullmatch(r"[\d.e+-]+", m.group(1)), (f.name, flag, m.group(1))
