"""The SimPy model: one module per process, a district that wires them, a recorder."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def month_dates(scenario: Scenario) -> pd.DatetimeIndex:
    """Calendar month starts of the simulated series."""
    y, m = parse_year_month(scenario.time.start)
    return pd.date_range(f"{y:04d}-{m:02d}-01", periods=scenario.time.n_months, freq="MS")


__all__ = ["District", "month_dates", "simulate_one"]
