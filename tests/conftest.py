"""Shared fixtures: the repository's paths, the base scenario, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Every run the tests make (in this process, in worker processes and in CLI subprocesses, which
# inherit the environment) checks the model's invariants: see gzsim.model.invariants.
os.environ["GZSIM_CHECK_INVARIANTS"] = "1"

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


def variant(scenario, changes: dict):
    """``scenario`` with dotted-path changes (a value of None removes an optional section)."""
    from gzsim import Scenario

    data = scenario.model_dump()
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = data
        for p in parents:
            node = node[p]
        node[leaf] = value
    return Scenario.model_validate(data)


NO_FEEDBACK = {"attractiveness.access_elasticity": 0.0, "attractiveness.land_elasticity": 0.0,
               "attractiveness.incentive_elasticity": 0.0,
               "attractiveness.labour_elasticity": 0.0, "land": None}


@pytest.fixture(scope="session")
def neutral_scenario(base_scenario):
    """The base without feedbacks on arrivals and without land constraints."""
    return variant(base_scenario, NO_FEEDBACK)


def run_cli(*args: str, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m gzsim ARGS` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "gzsim", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


SWEEP_VOLATILE = ["wall_time_s", "worker"]  # differ between runs of the same sweep


def assert_same_sweep(a: Path, b: Path) -> None:
    """Two sweep stores hold the same runs and series (ignoring timing and worker names)."""
    import pandas as pd

    from gzsim.experiments import read_sweep

    sa, sb = read_sweep(a), read_sweep(b)
    pd.testing.assert_frame_equal(sa.runs.drop(columns=SWEEP_VOLATILE),
                                  sb.runs.drop(columns=SWEEP_VOLATILE))
    pd.testing.assert_frame_equal(sa.series, sb.series)
