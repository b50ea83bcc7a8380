"""The district: wires the processes together and answers the questions they ask each other.

Processes never import each other; they talk through the district (attractiveness, sector
weights, screening, land, the labour pool). Creation order is the monthly tick order.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from gzsim.model.investment import InvestmentProcess, SectorDraw
from gzsim.model.jobs import JobsProcess
from gzsim.model.ledger import Ledger
from gzsim.model.policies import ActiveLevers, PolicySchedule
from gzsim.model.recorder import Recorder
from gzsim.model.streams import Streams
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
        self.levers: PolicySchedule = PolicySchedule(scenario)
        # Creation order = order of the month-end ticks; the recorder comes last.
        # [network] infrastructure and land processes are created here (before investment)
        self.investment = InvestmentProcess(self)
        # [people] resettlement / poverty / training processes are created here (before jobs)
        self.jobs = JobsProcess(self)
        self.processes: list[object] = [self.investment, self.jobs, self]
        self.recorder = Recorder(self)

    # --- questions processes ask each other -------------------------------------------------
    def attractiveness(self, month: int) -> float:
        """Multiplier on the project arrival rate (1 = no feedback)."""
        return 1.0

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
        """Hook for processes that react to a realised project (land, fiscal cost)."""

    def before_construction(self, sector: SectorDraw, size_usd_m: float) -> Generator:
        """Wait for whatever a project needs before construction can start."""
        yield from ()

    # --- indicators owned by the district ---------------------------------------------------
    def indicators(self, month: int) -> dict[str, float]:
        led = self.ledger
        return {
            "investment_usd_m": led.get("investment_usd_m", month),
            "committed_usd_m": led.get("committed_usd_m", month),
            "firms_operating": float(led.series("firms_started")[: month + 1].sum()),
        }

    def run(self) -> dict[str, np.ndarray]:
        self.env.run(until=self.n_months + 0.5)
        return self.recorder.arrays()
