"""Resettlement (province scale): quota-driven relocation into homes built from a housing budget.

Why quotas: the relocation programme was run by annual tasks handed down to counties; money
followed the tasks. So households move as the cumulative quota falls due, and the housing budget
limits them only where it cannot pay for the homes the quota needs (it "binds").

Each month: the budget release (x the housing lever) goes into a fund; homes are started, in
packages of ``homes_per_start``, while the fund pays for them and fewer are started than the
quota will need by the time they are finished (``build_months`` later); a package is booked
by the month its homes are ready (no SimPy process per package), and finished, empty homes are a
counter. Then the households due (cumulative quota not yet met) move into the homes
that are ready, in batches of ``batch_households`` (the last batch may be smaller): they leave
the waiting stock, their workers join the labour pool (the district's share) and their people
enter the poverty process as relocated. More money can only start homes earlier, so relocation
(and with it poverty exits) is never lower with a larger budget.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gzsim.model.budget import monthly_amounts, released
from gzsim.model.poverty import quota_per_month
from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class ResettlementProcess(Process):
    """Households waiting, homes built and relocation by quota (see the module)."""

    name = "resettlement"
    section = "resettlement"
    tick = 40
    INDICATORS = (
        Indicator("households_waiting", "households", "province", "stock",
                  "households still waiting to be resettled"),
        Indicator("people_resettled", "people", "province", "stock",
                  "people resettled so far (cumulative)"),
        Indicator("housing_spending_usd_m", "US$ m/month", "province", "flow",
                  "resettlement housing budget released that month"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        cfg = district.scenario.resettlement
        assert cfg is not None
        self.cfg = cfg
        self.households_total = int(round(cfg.households_to_relocate))
        self.households_waiting = self.households_total
        self.households_relocated = 0
        self.homes_started = 0
        self.homes_ready = 0  # finished homes not yet moved into
        self.homes_due: dict[int, int] = {}  # month -> homes finishing at that month's end
        self.fund_usd_m = 0.0
        self.spending_usd_m = 0.0
        # the budget before levers; households due by the end of each month (cumulative quota,
        # carried over when unmet): neither depends on the run
        self._amounts, self.due = district.once("resettlement.paths", lambda: (
            monthly_amounts(cfg.housing_budget, district.scenario.time),
            np.cumsum(quota_per_month(cfg.quotas, district.scenario.time))
            / cfg.people_per_household))

    def budget(self, month: int) -> float:
        """Housing money released this month (US$ m), with the housing lever applied."""
        return released(self._amounts, self.cfg.housing_budget, self.d.scenario.time, month,
                        self.d.levers(month).housing_budget_multiplier)

    def due_by(self, month: int) -> int:
        """Households the quota asks to have moved by the end of ``month`` (capped)."""
        k = min(month, len(self.due) - 1)
        return min(self.households_total, math.floor(self.due[k] + 1e-9))

    def step(self, month: int) -> None:
        """Fund and start the homes the quota will need, then move the households due."""
        self.homes_ready += self.homes_due.pop(month, 0)
        money = self.budget(month)
        self.spending_usd_m = money
        self.fund_usd_m += money
        # homes started now are usable at the end of month + build_months + 1
        ready = month + self.cfg.build_months + 1
        needed = self.due_by(ready) - self.homes_started
        cost = self.cfg.cost_usd_m_per_home
        while needed > 0:
            n = min(self.cfg.homes_per_start, needed)
            if self.fund_usd_m < n * cost:
                break
            self.fund_usd_m -= n * cost
            self.homes_started += n
            needed -= n
            self.homes_due[ready] = self.homes_due.get(ready, 0) + n
        self.relocate(month)

    def relocate(self, month: int) -> None:
        """Move the households due into ready homes, in whole batches (the last may be short)."""
        can = min(self.due_by(month) - self.households_relocated, self.homes_ready,
                  self.households_waiting)
        if can <= 0:
            return
        if can < self.households_waiting:
            can -= can % self.cfg.batch_households
        if can <= 0:
            return
        self.homes_ready -= can
        self.households_waiting -= can
        self.households_relocated += can
        self.d.on_relocated(can, month)

    def people_resettled(self) -> float:
        """People relocated so far (households x people per household)."""
        return self.households_relocated * self.cfg.people_per_household

    def indicators(self, month: int) -> dict[str, float]:
        """Waiting households, people resettled, housing money this month."""
        return {"households_waiting": float(self.households_waiting),
                "people_resettled": self.people_resettled(),
                "housing_spending_usd_m": self.spending_usd_m}
