"""The district: wires the processes together and answers the questions they ask each other.

Processes never import each other; they talk through the district (attractiveness, sector
weights, screening, land, the labour pool). Creation order is the monthly tick order: the
network and land first, then investment, then people (resettlement, poverty, training), then
the labour market, then the district's own books; the recorder samples last.
Optional processes (a region may have no resettlement programme) are simply absent.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from gzsim.model.attractiveness import attractiveness
from gzsim.model.infrastructure import InfrastructureProcess
from gzsim.model.investment import InvestmentProcess, SectorDraw
from gzsim.model.jobs import JobsProcess
from gzsim.model.land import LandProcess
from gzsim.model.ledger import Ledger
from gzsim.model.policies import ActiveLevers, PolicySchedule
from gzsim.model.poverty import PovertyProcess
from gzsim.model.recorder import Recorder
from gzsim.model.resettlement import ResettlementProcess
from gzsim.model.streams import Streams
from gzsim.model.training import TrainingProcess
from gzsim.scenario.schema import Scenario

__all__ = ["ActiveLevers", "District"]


class District:
    def __init__(self, scenario: Scenario, root_seed: int, replication: int):
        self.scenario = scenario
        self.n_months = scenario.time.n_months
        self.env = simpy.Environment()
        self.streams = Streams(root_seed, replication)
        self.ledger = Ledger(self.n_months)
        self._weights = np.array([s.weight for s in scenario.sectors.values()], dtype=float)
        self._sector_names = list(scenario.sectors)
        self._tax_rate = scenario.fiscal.tax_usd_m_per_usd_m_operating_per_year
        self.levers: PolicySchedule = PolicySchedule(scenario)
        # Creation order = order of the month-end ticks; the recorder comes last.
        self.infrastructure = (InfrastructureProcess(self) if scenario.infrastructure else None)
        self.land = LandProcess(self) if scenario.land else None
        self.investment = InvestmentProcess(self)
        self.resettlement = ResettlementProcess(self) if scenario.resettlement else None
        self.poverty = PovertyProcess(self) if scenario.poverty else None
        self.training = TrainingProcess(self)
        self.jobs = JobsProcess(self)
        self.processes: list[object] = [p for p in (
            self.infrastructure, self.land, self.investment, self.resettlement, self.poverty,
            self.training, self.jobs, self) if p is not None]
        self.recorder = Recorder(self)

    # --- questions processes ask each other -------------------------------------------------
    def accessibility(self) -> float:
        """The province network's accessibility as it reaches the district (1 = start)."""
        if self.infrastructure is None:
            return 1.0
        reach = self.scenario.attractiveness.reach_share
        return 1 + reach * (self.infrastructure.network_index() - 1)

    def attractiveness(self, month: int) -> float:
        """Multiplier on the project arrival rate, from last month's state (see module)."""
        return attractiveness(
            self.scenario.attractiveness, accessibility=self.accessibility(),
            free_land_km2=self.land.free.level if self.land else None,
            tax_incentive_share=self.levers(month).tax_incentive_share,
            shortage=self.jobs.shortage())

    def employment_rate(self) -> float:
        return self.jobs.employment_rate()

    def sector_weights(self, month: int) -> np.ndarray:
        mult = self.levers(month).sector_weight_multipliers
        if not mult:
            return self._weights
        return self._weights * np.array([mult.get(n, 1.0) for n in self._sector_names])

    def screening_accepts(self, sector: SectorDraw, month: int) -> bool:
        """Environmental screening: reject sectors above the policy's pollution class."""
        limit = self.levers(month).max_pollution_class
        return limit is None or sector.pollution_class <= limit

    def on_project_realised(self, sector: SectorDraw, size_usd_m: float, month: int) -> None:
        """Hook for processes that react to a realised project."""

    def before_construction(self, sector: SectorDraw, size_usd_m: float) -> Generator:
        """A project occupies its serviced land before it can build (waits if there is none)."""
        if self.land is not None:
            yield from self.land.take(size_usd_m * sector.land_km2_per_usd_m)

    def on_relocated(self, households: int, month: int) -> None:
        """Relocated households: their workers join the pool, their people change poverty stock."""
        cfg = self.scenario.resettlement
        assert cfg is not None
        self.jobs.add_workers(households * cfg.workers_per_household
                              * cfg.district_share_of_workers)
        if self.poverty is not None:
            self.poverty.relocated(int(round(households * cfg.people_per_household)))

    # --- indicators owned by the district ---------------------------------------------------
    def operating_usd_m(self, month: int) -> float:
        return sum(self.ledger.get(f"operating_usd_m.{s}", month) for s in self._sector_names)

    def indicators(self, month: int) -> dict[str, float]:
        led = self.ledger
        incentive = self.levers(month).tax_incentive_share
        return {
            "investment_usd_m": led.get("investment_usd_m", month),
            "committed_usd_m": led.get("committed_usd_m", month),
            "realised_usd_m": led.get("realised_usd_m", month),
            "pipeline_usd_m": self.investment.pipeline_usd_m(month),
            "firms_operating": float(led.series("firms_started")[: month + 1].sum()),
            "fiscal_cost_usd_m": incentive * self._tax_rate * self.operating_usd_m(month) / 12,
            "attractiveness": self.attractiveness(month + 1),
        }

    def run(self) -> dict[str, np.ndarray]:
        self.env.run(until=self.n_months + 0.5)
        return self.recorder.arrays()
