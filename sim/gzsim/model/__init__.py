"""The SimPy model: one module per process, a district that wires them, a recorder, an event log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gzsim.model import invariants
from gzsim.model.district import District
from gzsim.model.eventlog import EventColumns
from gzsim.model.process import Process
from gzsim.scenario.schema import Scenario, parse_year_month

if TYPE_CHECKING:
    import pandas as pd


def simulate_one(scenario: Scenario, root_seed: int, replication: int,
                 processes: Iterable[type[Process]] = ()) -> dict[str, np.ndarray]:
    """Run one replication; monthly indicator arrays, deterministic in (scenario, seed, rep).

    ``processes``: processes from outside the package to run after the model's own. With
    ``GZSIM_CHECK_INVARIANTS=1`` (the test suite sets it) the run's invariants are checked.
    """
    return simulate_with_events(scenario, root_seed, replication, processes, events=False)[0]


def simulate_with_events(scenario: Scenario, root_seed: int, replication: int,
                         processes: Iterable[type[Process]] = (), events: bool = True
                         ) -> tuple[dict[str, np.ndarray], pd.DataFrame | None]:
    """One replication's arrays and, when ``events``, its entity event log (a DataFrame)."""
    arrays, log = _run(scenario, root_seed, replication, processes, events)
    return arrays, (log.frame() if log is not None else None)


def _run(scenario: Scenario, root_seed: int, replication: int,
         processes: Iterable[type[Process]], events: bool
         ) -> tuple[dict[str, np.ndarray], EventColumns | None]:
    """One replication's arrays and, when ``events``, its event log's columns."""
    d = District(scenario, root_seed, replication, processes=processes, events=events)
    arrays = d.run()
    if invariants.enabled():
        invariants.check(arrays, scenario, d.classes)
    return arrays, (d.log.payload() if d.log is not None else None)


EVENTS_KEY = "__events__"  # where a run function returns a replication's event log (EventColumns)


@dataclass(frozen=True)
class ModelRun:
    """A picklable model function for the execution layer (``run_fn``).

    The model with outside ``processes`` and, when ``events``, each replication's event log
    under ``EVENTS_KEY`` (:class:`~gzsim.model.eventlog.EventColumns`: no pandas in a worker).
    """

    processes: tuple[type[Process], ...] = ()
    events: bool = False

    def __call__(self, scenario: Scenario, root_seed: int, replication: int) -> dict[str, Any]:
        """Run one replication (its arrays, and its event log when asked)."""
        if not self.events:
            return simulate_one(  # a module global: looked up at call time (tests replace it)
                scenario, root_seed, replication, self.processes)
        arrays, log = _run(scenario, root_seed, replication, self.processes, True)
        out: dict[str, Any] = dict(arrays)
        if log is not None:
            out[EVENTS_KEY] = log
        return out


def month_dates(scenario: Scenario) -> np.ndarray:
    """Calendar month starts of the simulated series (``datetime64[us]``, as pandas makes them)."""
    y, m = parse_year_month(scenario.time.start)
    first = np.datetime64(f"{y:04d}-{m:02d}", "M")
    return (first + np.arange(scenario.time.n_months)).astype("datetime64[us]")


__all__ = ["EVENTS_KEY", "District", "ModelRun", "month_dates", "simulate_one",
           "simulate_with_events"]
