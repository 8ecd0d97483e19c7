"""GNU Radio Companion flowgraphs (``.grc``), the top blocks ``grcc`` generates from them, and
the ``.block.yml`` files that let GRC use the project's blocks (set ``GRC_BLOCKS_PATH`` to
this folder; ``semcom`` does it for you). Logic lives in the packages, not here.
"""

from pathlib import Path

FLOWGRAPH_DIR = Path(__file__).resolve().parent
