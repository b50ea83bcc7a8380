"""Execute the notebooks and save them with their outputs (``make docs`` -> docs/notebooks/).

    python tools/run_notebooks.py [OUT_DIR] [NAME...]

A reader then sees the tables, figures and computed conclusions without running anything. The
tests execute the same way with small parameters (:func:`execute`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def execute(name: str, parameters: str | None = None, out: Path | None = None,
            timeout: int = 1800) -> nbformat.NotebookNode:
    """Run ``notebooks/NAME`` (its ``parameters`` cell replaced if given); save it to ``out``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{name}: expected one cell tagged 'parameters', found {len(cells)}")
    if parameters is not None:
        cells[0].source = parameters
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".{name}.tmp"
        nbformat.write(nb, tmp)
        tmp.replace(out / name)
    return nb


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "notebooks"
    names = sys.argv[2:] or sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for n in names:
        execute(n, out=out)
        print(f"executed notebooks/{n} -> {out / n}")
