"""``semcom flowgraphs``: regenerate, check and edit the GNU Radio Companion flowgraphs.

``generate`` runs ``grcc`` on every ``.grc`` here (with ``GRC_BLOCKS_PATH`` pointing at this
folder's ``.block.yml`` files) and writes the top blocks beside them; ``check`` generates into
a temporary folder and fails when a committed top block differs from what ``grcc`` makes now;
``edit NAME`` opens GNU Radio Companion with the project's blocks on its path.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from flowgraphs import FLOWGRAPH_DIR


def grc_env() -> dict:
    env = dict(os.environ)
    paths = [str(FLOWGRAPH_DIR)] + [p for p in env.get("GRC_BLOCKS_PATH", "").split(":") if p]
    env["GRC_BLOCKS_PATH"] = ":".join(dict.fromkeys(paths))
    return env


def grc_files() -> list[Path]:
    return sorted(FLOWGRAPH_DIR.glob("*.grc"))


def generate(out_dir: Path, files: list[Path] | None = None) -> list[Path]:
    files = files or grc_files()
    proc = subprocess.run(["grcc", "-o", str(out_dir), *map(str, files)], env=grc_env(),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"grcc failed:\n{proc.stdout}\n{proc.stderr}")
    return [out_dir / f"{f.stem}.py" for f in files]


def check() -> list[str]:
    """-> problems (empty when every committed top block matches grcc's output)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for made in generate(Path(tmp)):
            committed = FLOWGRAPH_DIR / made.name
            if not committed.exists():
                problems.append(f"{committed.name}: missing (run `semcom flowgraphs generate`)")
                continue
            a, b = committed.read_text(), made.read_text()
            if a != b:
                diff = "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                                         str(committed), "grcc"))[:40])
                problems.append(f"{committed.name}: out of sync with its .grc\n{diff}")
    return problems


def run(args) -> int:
    if args.action == "generate":
        for p in generate(FLOWGRAPH_DIR):
            print(f"generated {p}")
        return 0
    if args.action == "check":
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        print("flowgraphs: in sync" if not problems else f"flowgraphs: {len(problems)} problems")
        return 1 if problems else 0
    if args.action == "edit":
        gui = shutil.which("gnuradio-companion")
        if gui is None:
            print("gnuradio-companion not found (Debian package gnuradio)", file=sys.stderr)
            return 1
        target = FLOWGRAPH_DIR / f"{args.name}.grc" if args.name else None
        return subprocess.call([gui, *([str(target)] if target else [])], env=grc_env())
    if args.action == "path":
        print(FLOWGRAPH_DIR)
        return 0
    return 2
