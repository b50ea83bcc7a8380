"""Shared fixtures: the repository's paths, the base scenario, a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
BASE = SCENARIOS / "base.yaml"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def base_scenario():
    from gzsim import load_scenario

    return load_scenario(BASE)


def run_cli(*args: str, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m gzsim ARGS` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "gzsim", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
