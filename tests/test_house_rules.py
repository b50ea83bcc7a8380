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

# The layers, first to last (docs/architecture.md): a module imports only from its own layer
# and earlier ones; data flows scenario -> model -> results -> experiments -> analysis -> CLI.
# io and errors (files, typed user errors) are the floor every layer stands on; the run path
# (execution, posterior draws, simulate) sits between results and experiments; calibration is
# analysis over the same API. ``gzsim`` itself (``__version__``, the lazy API) is allowed to all.
LAYERS = [
    ("floor", ("gzsim.errors", "gzsim.io")),
    ("scenario", ("gzsim.scenario",)),
    ("model", ("gzsim.model",)),
    ("results", ("gzsim.indicators", "gzsim.aggregate", "gzsim.results")),
    ("run", ("gzsim.execution", "gzsim.uncertainty", "gzsim.assumptions", "gzsim.arguments",
             "gzsim.run")),
    ("experiments", ("gzsim.experiments", "gzsim.ema")),
    ("analysis", ("gzsim.analysis", "gzsim.calibration")),
    ("cli", ("gzsim.cli", "gzsim.explore", "gzsim.__main__")),
]
MAX_TOP_LEVEL_MODULES = 12


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def python_files() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_nodes(tree: ast.AST, top_only: bool = False, typing_too: bool = True):
    """Import statements of a module: all of them, or those run when it is imported."""
    def walk(node, top):
        for child in ast.iter_child_nodes(node):
            if _type_checking(child) and not typing_too:
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, top
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if not top_only:
                    yield from walk(child, False)
            else:
                yield from walk(child, top)
    yield from walk(tree, True)


def imported_modules(tree: ast.AST, known: set[str] | None = None, **kw) -> set[str]:
    """gzsim modules (or any module names, without ``known``) a module imports."""
    out = set()
    for node, _ in import_nodes(tree, **kw):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif node.module:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found = subs & known if known else set()
            out |= found if found == subs else found | {node.module}
    return out


def gzsim_modules() -> dict[str, Path]:
    return {module_name(p): p for p in python_files()}


def test_every_module_has_a_layer():
    assert not [m for m in gzsim_modules() if m != "gzsim" and layer_of(m) is None]


def test_layers_import_only_their_own_and_earlier_layers():
    bad = []
    for mod, path in gzsim_modules().items():
        if mod == "gzsim":
            continue
        for imp in imported_modules(ast.parse(path.read_text())):
            if imp.startswith("gzsim.") and (layer_of(imp) or 0) > layer_of(mod):
                bad.append(f"{path.relative_to(REPO)} ({LAYERS[layer_of(mod)][0]}) imports "
                           f"{imp} ({LAYERS[layer_of(imp)][0]})")
    assert not bad, "\n".join(bad)


def test_the_layer_rule_catches_a_backward_import():
    tree = ast.parse("def f():\n    from gzsim.cli.app import main\n")
    assert "gzsim.cli.app" in imported_modules(tree)
    assert layer_of("gzsim.cli.app") > layer_of("gzsim.results") > layer_of("gzsim.io.fileio")
    assert layer_of("gzsim.io.posterior") < layer_of("gzsim.run") < layer_of("gzsim.calibration")


def _graph(**kw) -> dict[str, set[str]]:
    mods = gzsim_modules()
    known = set(mods)
    return {m: (imported_modules(ast.parse(p.read_text()), known, **kw) & known) - {m}
            for m, p in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                out.append(sorted([v, *comp]))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    """No cycle among the imports a module runs when it is imported (a package's own
    submodules imported by ``from package import submodule`` count as the submodule)."""
    cycles = _cycles(_graph(top_only=True, typing_too=False))
    assert not cycles, cycles
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_two_modules_import_each_other():
    """Not even inside a function (``compare`` and ``headline`` used to)."""
    graph = _graph(typing_too=False)
    pairs = sorted({tuple(sorted((a, b))) for a, bs in graph.items() for b in bs
                    if a in graph.get(b, ())})
    assert not pairs, pairs


def test_at_most_twelve_top_level_modules():
    top = sorted(p.name for p in SIM.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def unexplained_function_imports(path: Path) -> list[str]:
    """Imports inside functions without a comment (on the group or just above) saying
    ``start-up``: each one protects start-up time, or it belongs at the top."""
    lines = path.read_text().splitlines()
    where = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    bad = []
    for node, top in import_nodes(ast.parse("\n".join(lines))):
        if top:
            continue
        first, last = node.lineno, node.end_lineno
        block = re.compile(r"\s*(from \S+ import|import |#|$)")  # the function's import block
        while first > 1 and block.match(lines[first - 2]):
            first -= 1
        while last < len(lines) and block.match(lines[last]):
            last += 1
        text = "\n".join(lines[first - 1:last])
        if "start-up" not in text:
            bad.append(f"{where}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return bad


def test_imports_inside_functions_say_they_protect_start_up():
    bad = [b for p in python_files() for b in unexplained_function_imports(p)]
    assert not bad, "\n".join(bad)


def test_the_start_up_rule_catches_a_bare_import(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("def f():\n    import os\n\n    return os\n")
    assert len(unexplained_function_imports(f)) == 1
    f.write_text("def f():\n    # start-up: os is slow\n    import os\n\n    return os\n")
    assert unexplained_function_imports(f) == []


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
