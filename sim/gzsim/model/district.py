"""The district: builds the registered processes and answers the questions they ask each other.

Processes never import each other; they talk through the district (attractiveness, sector
weights, screening, land, the labour pool), which reaches a process by its name
(``district.jobs``; ``None`` when the scenario does not have it). The processes are built from
the registry (:mod:`gzsim.model.process`) in tick order, which is also the order of their
month-end steps; the recorder samples last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import simpy

# Importing the process modules registers them (the registry is the model's table of contents).
from gzsim.model import (  # noqa: F401
    fiscal,
    infrastructure,
    investment,
    jobs,
    land,
    poverty,
    resettlement,
    training,
)
from gzsim.model.attractiveness import attractiveness
from gzsim.model.clock import monthly
from gzsim.model.constants import once as scenario_once
from gzsim.model.investment import SectorDraw
from gzsim.model.ledger import Ledger
from gzsim.model.policies import PolicySchedule
from gzsim.model.process import Process, registered
from gzsim.model.recorder import Recorder
from gzsim.model.streams import Streams
from gzsim.scenario.schema import Scenario

__all__ = ["District"]

T = TypeVar("T")


class District:
    """One replication of a scenario: the SimPy environment, its processes and their books."""

    def __init__(self, scenario: Scenario, root_seed: int, replication: int):
        self.scenario = scenario
        self.n_months = scenario.time.n_months
        self.env = simpy.Environment()
        self.streams = Streams(root_seed, replication)
        self.ledger = Ledger(self.n_months)
        self._weights = np.array([s.weight for s in scenario.sectors.values()], dtype=float)
        self._sector_names = list(scenario.sectors)
        self.levers = self.once("levers", lambda: PolicySchedule(scenario))
        classes = registered()
        self._absent = {c.name for c in classes if not c.present(scenario)}
        self._procs: dict[str, Process] = {}
        for cls in classes:
            if cls.name not in self._absent:
                self._procs[cls.name] = cls(self)
        self.processes: list[Process] = list(self._procs.values())
        # plain attributes from here on (``district.jobs`` is read thousands of times a run;
        # ``__getattr__`` still answers while the processes are being built)
        by_name = dict.fromkeys(self._absent) | self._procs
        self.__dict__.update({k: v for k, v in by_name.items()
                              if k not in self.__dict__ and not hasattr(District, k)})
        self._stepping = [p for p in self.processes if p.monthly_step]
        self.recorder = Recorder(self)
        self.env.process(monthly(self.env, self.n_months, self._month_end))

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """A value that depends only on the scenario: computed once for all its replications.

        See :mod:`gzsim.model.constants`; the value is shared, so it must not be modified.
        """
        return scenario_once(self.scenario, key, compute)

    def _month_end(self, month: int) -> None:
        """Every process's month-end step in tick order, then the recorder's sample."""
        for p in self._stepping:
            p.step(month)
        self.recorder.sample(month)

    def __getattr__(self, name: str) -> Any:
        """``district.jobs`` etc.: a process by name, ``None`` if this scenario lacks it."""
        procs = self.__dict__.get("_procs")
        if procs is not None:
            if name in procs:
                return procs[name]
            if name in self.__dict__.get("_absent", ()):
                return None
        raise AttributeError(name)

    # --- questions processes ask each other -------------------------------------------------
    def accessibility(self) -> float:
        """The province network's accessibility as it reaches the district (1 = start)."""
        if self.infrastructure is None:
            return 1.0
        reach = self.scenario.attractiveness.reach_share
        return 1 + reach * (self.infrastructure.network_index() - 1)

    def attractiveness(self, month: int) -> float:
        """Multiplier on the project arrival rate, from last month's state."""
        return attractiveness(
            self.scenario.attractiveness, accessibility=self.accessibility(),
            free_land_km2=self.land.uncommitted_km2() if self.land else None,
            tax_incentive_share=self.levers(month).tax_incentive_share,
            shortage=self.jobs.shortage())

    def sector_weights(self, month: int) -> np.ndarray:
        """Relative arrival weights of the sectors, with sector-targeting levers applied."""
        mult = self.levers(month).sector_weight_multipliers
        if not mult:
            return self._weights
        return self._weights * np.array([mult.get(n, 1.0) for n in self._sector_names])

    def screening_accepts(self, sector: SectorDraw, month: int) -> bool:
        """Environmental screening: reject sectors above the policy's pollution class."""
        limit = self.levers(month).max_pollution_class
        return limit is None or sector.pollution_class <= limit

    def on_relocated(self, households: int, month: int) -> None:
        """Relocated households: their workers join the pool, their people change poverty stock."""
        cfg = self.scenario.resettlement
        self.jobs.add_workers(households * cfg.workers_per_household
                              * cfg.district_share_of_workers)
        if self.poverty is not None:
            self.poverty.relocated(int(round(households * cfg.people_per_household)))

    def operating_usd_m(self, month: int) -> float:
        """Capital operating in the month last stepped, all sectors (depreciated, net of exits)."""
        return sum(self.investment.capital)

    def run(self) -> dict[str, np.ndarray]:
        """Run to the horizon; the recorded monthly indicator arrays."""
        self.env.run(until=self.n_months + 0.5)
        return self.recorder.arrays()
