"""House rules that keep the code a newcomer can read (docs/architecture.md).

Layers import only the layers above them; no function is longer than a screen; the lint (with
complexity, argument-count and docstring rules) is clean; no figure from the source articles is
written into the code.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SIM = REPO / "sim" / "gzsim"
MAX_FUNCTION_LINES = 60

# What each layer must never import (data flows scenario -> model -> results -> experiments ->
# analysis -> CLI).
LATER = {
    "scenario": ("gzsim.model", "gzsim.results", "gzsim.experiments", "gzsim.analysis",
                 "gzsim.calibration", "gzsim.cli", "gzsim.run"),
    "model": ("gzsim.results", "gzsim.experiments", "gzsim.analysis", "gzsim.calibration",
              "gzsim.cli", "gzsim.run", "gzsim.indicators"),
    "experiments": ("gzsim.analysis", "gzsim.calibration", "gzsim.cli"),
}


def python_files() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("layer", sorted(LATER))
def test_layers_import_only_earlier_layers(layer):
    bad = []
    for path in (SIM / layer).rglob("*.py"):
        for mod in imported_modules(ast.parse(path.read_text())):
            if mod.startswith(LATER[layer]):
                bad.append(f"{path.relative_to(REPO)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_no_function_longer_than_a_screen():
    long = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "\n".join(long)


def test_lint_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    proc = subprocess.run([ruff, "check", "."], cwd=REPO,  # notebooks and tools too
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


ARTICLE_FIGURES = re.compile(r"\b(3\.34|30_?000|458_?000|1_?795|164_?500|152_?000|2_?630|16\.03|"
                             r"46\.5|6\.63|0\.357|0\.384|9_?230_?000|2_?680)\b")


def test_no_source_figure_in_the_code():
    hits = []
    for path in python_files():
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if ARTICLE_FIGURES.search(code) and '"""' not in code:
                hits.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, "figures from the sources belong in YAML:\n" + "\n".join(hits)


MAX_EXPERIMENTS_LINES = 1_400  # issue 10: the execution layer about half its old size


def test_experiments_stay_small():
    """``sim/gzsim/experiments/`` (designs, sweeps, the store) holds at most 1,400 lines."""
    n = sum(len(p.read_text().splitlines()) for p in (SIM / "experiments").glob("*.py"))
    assert n <= MAX_EXPERIMENTS_LINES, f"experiments/ has {n} lines (> {MAX_EXPERIMENTS_LINES})"
