"""What a run manifest records so the run can be rebuilt and audited.

When and how it was made (UTC time, command line, ``--set`` overrides, platform), from which
files (SHA-256 of every scenario file in the ``extends`` chain and of the fitted values), with
which code (gzsim version, git commit and whether the tree had changes, when gzsim runs from a
git checkout), and the source notes written as data in the scenario files.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gzsim import __version__

PROJECT = Path(__file__).resolve().parents[3]  # sim/gzsim/io -> the project (a checkout)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def git_state(root: Path = PROJECT) -> dict[str, Any]:
    """The commit gzsim runs from and whether its tree differs; empty outside a checkout."""
    if not (root / ".git").exists():
        return {}

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return {"git_commit": git("rev-parse", "HEAD"),
                "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    return {}


def describe(scenario: Any = None) -> dict[str, Any]:
    """The provenance block of a manifest; ``scenario`` as loaded by ``load_scenario``."""
    prov = getattr(scenario, "_provenance", None) or {}
    files = [{**f, "sha256": sha256_file(f["path"])} for f in prov.get("files", [])
             if Path(f["path"]).is_file()]
    return {
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command_line": [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else [],
        "overrides": list(prov.get("overrides", [])),
        "files": files,
        "sources": dict(prov.get("sources", {})),
        "gzsim_version": __version__,
        **git_state(),
        "platform": {"system": platform.platform(), "machine": platform.machine(),
                     "python": platform.python_version()},
    }
