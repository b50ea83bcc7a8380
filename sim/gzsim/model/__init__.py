"""The SimPy model: one module per process, a district that wires them, a recorder."""

from __future__ import annotations

import numpy as np

from gzsim.model import invariants
from gzsim.model.district import District
from gzsim.scenario.schema import Scenario, parse_year_month


def simulate_one(scenario: Scenario, root_seed: int, replication: int) -> dict[str, np.ndarray]:
    """Run one replication; monthly indicator arrays, deterministic in (scenario, seed, rep).

    With ``GZSIM_CHECK_INVARIANTS=1`` (the test suite sets it) the run's invariants are checked.
    """
    arrays = District(scenario, root_seed, replication).run()
    if invariants.enabled():
        invariants.check(arrays, scenario)
    return arrays


def month_dates(scenario: Scenario) -> np.ndarray:
    """Calendar month starts of the simulated series (``datetime64[us]``, as pandas makes them)."""
    y, m = parse_year_month(scenario.time.start)
    first = np.datetime64(f"{y:04d}-{m:02d}", "M")
    return (first + np.arange(scenario.time.n_months)).astype("datetime64[us]")


__all__ = ["District", "month_dates", "simulate_one"]
