"""Clear errors instead of hundreds of tracebacks when replications cannot run.

Two causes are common in scripts and notebooks:

- a script that starts gzsim's worker processes at module level, without an
  ``if __name__ == "__main__":`` guard: under the ``spawn``/``forkserver`` start methods each
  worker re-imports the script and tries to start workers again. :func:`check_main_guard`
  finds this before any process starts, by reading the script;
- every replication failing the same way (a parameter the model cannot run with): the run
  stops after a few identical failures and :class:`~gzsim.errors.AllRunsFailed` quotes the
  first one.
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from pathlib import Path

from gzsim.errors import AllRunsFailed, UserError

#: identical failures, with no success, after which a run stops
STOP_AFTER = 3


def _guarded_lines(source: str) -> set[int]:
    """Lines inside ``if __name__ == "__main__":`` blocks of a module."""
    lines: set[int] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) \
                and "__name__" in ast.unparse(node.test):
            for sub in node.body:
                lines |= set(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def unguarded_call_line(main: object | None = None) -> int | None:
    """The line of the running script's module-level code that called us, if unguarded."""
    main = main or sys.modules.get("__main__")
    spec = getattr(getattr(main, "__spec__", None), "name", None)
    if spec and (spec == "__main__" or spec.endswith(".__main__")):
        return None  # python -m package: multiprocessing does not re-import a __main__ module
    file = getattr(main, "__file__", None)
    if not file or not Path(file).is_file():
        return None  # interactive, notebook, python -c: nothing to re-import
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            try:
                guarded = _guarded_lines(Path(file).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                return None
            return None if frame.f_lineno in guarded else frame.f_lineno
        frame = frame.f_back
    return None


def check_main_guard(workers: int, start_method: str | None = None) -> None:
    """Refuse to start worker processes from a script's unguarded module-level code."""
    method = start_method or multiprocessing.get_start_method(allow_none=True) or "spawn"
    if workers <= 1 or method == "fork":
        return
    line = unguarded_call_line()
    if line is not None:
        file = getattr(sys.modules.get("__main__"), "__file__", "your script")
        raise UserError(
            f"{file}:{line} starts gzsim's worker processes from module-level code. Worker "
            "processes re-import the script (multiprocessing start method 'spawn' or "
            "'forkserver'), so put that code under 'if __name__ == \"__main__\":', or run "
            "with workers=1.")


def first_line(error: str) -> str:
    """The one-line message of a recorded error (the traceback follows it)."""
    return (error or "").strip().splitlines()[0] if error else ""


def all_failed(name: str, failures: list[dict], n: int, stopped: bool) -> AllRunsFailed:
    """The error for a run whose every replication failed."""
    first = failures[0]
    what = (f"the first {len(failures)} replications of {n} failed the same way, so the run "
            "stopped" if stopped else f"all {n} replications failed")
    hint = ""
    if "BrokenProcessPool" in first["error"] or "bootstrapping phase" in first["error"]:
        hint = (" Worker processes died while starting: if you run gzsim from a script, put "
                "the code under 'if __name__ == \"__main__\":' (workers re-import the script "
                "under the 'spawn'/'forkserver' start methods), or use workers=1.")
    return AllRunsFailed(
        f"scenario '{name}': {what}. First error (replication {first['replication']}): "
        f"{first_line(first['error'])}.{hint}")
