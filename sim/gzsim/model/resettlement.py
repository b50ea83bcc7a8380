"""Resettlement (province scale): quota-driven relocation into homes built from a housing budget.

Why quotas: the relocation programme was run by annual tasks handed down to counties; money
followed the tasks. So households move as the cumulative quota falls due, and the housing budget
limits them only where it cannot pay for the homes the quota needs (it "binds").

Each month opens with the budget release (x the housing lever) put into the housing fund (a
``Container``); housing packages of ``homes_per_start`` homes are started while the fund pays for
them and fewer are started than the quota will need by the time they are finished
(``build_months`` later). A package is a timeout whose callback puts its homes into the
``homes`` Container. At the month's end, relocation takes the households due (cumulative quota
not yet met) into the homes that are ready, with one ``homes.get`` for the month, in batches of
``batch_households`` (the last batch may be smaller): they leave the waiting stock, their
workers join the labour pool (the district's share) and their people enter the poverty process
as relocated. More money can only start homes earlier, so relocation (and with it poverty
exits) is never lower with a larger budget.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import simpy

from gzsim.model.budget import monthly_amounts, released
from gzsim.model.clock import at
from gzsim.model.poverty import quota_per_month
from gzsim.model.process import Indicator, Process

if TYPE_CHECKING:
    from simpy import Environment

    from gzsim.model.district import District


class ResettlementProcess(Process):
    """Households waiting, homes built and relocation by quota (see the module)."""

    name = "resettlement"
    section = "resettlement"
    READS = ("jobs", "poverty")
    STOCKS = ("housing_fund", "homes")
    LOGS = {"housing_package": ("start", "finished")}
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
        self.homes_built = 0
        self.packages = 0
        self.spending_usd_m = 0.0
        self.released_usd_m = 0.0
        # the budget before levers; households due by the end of each month (cumulative quota,
        # carried over when unmet): neither depends on the run
        self._amounts, self.due = district.once("resettlement.paths", lambda: (
            monthly_amounts(cfg.housing_budget, district.scenario.time),
            np.cumsum(quota_per_month(cfg.quotas, district.scenario.time))
            / cfg.people_per_household))

    def start(self, env: Environment) -> None:
        """The housing fund and the finished, empty homes."""
        self.fund = simpy.Container(env)
        self.homes = simpy.Container(env)

    def budget(self, month: int) -> float:
        """Housing money released this month (US$ m), with the housing lever applied."""
        return released(self._amounts, self.cfg.housing_budget, self.d.scenario.time, month,
                        self.d.levers(month).housing_budget_multiplier)

    def due_by(self, month: int) -> int:
        """Households the quota asks to have moved by the end of ``month`` (capped)."""
        k = min(month, len(self.due) - 1)
        return min(self.households_total, math.floor(self.due[k] + 1e-9))

    def open_month(self, month: int) -> None:
        """Fund and start the packages the quota will need when they are finished."""
        money = self.budget(month)
        self.spending_usd_m = money
        if money > 0:
            self.released_usd_m += money
            self.fund.put(money)
        b = self.cfg.build_months
        needed = self.due_by(month + b) - self.homes_started
        cost = self.cfg.cost_usd_m_per_home
        while needed > 0:
            n = min(self.cfg.homes_per_start, needed)
            if self.fund.level < n * cost:
                break
            self.fund.get(n * cost)  # the level suffices: taken at once
            self.homes_started += n
            needed -= n
            package = self.packages
            self.packages += 1
            if self.log is not None:
                self.log.add(self.env.now, "housing_package", package, "start", None,
                                      n * cost, None, None)
            at(self.env, b, self._finisher(package, n))

    def _finisher(self, package: int, homes: int):
        def finish(_event) -> None:
            self.homes_built += homes
            self.homes.put(homes)
            if self.log is not None:
                self.log.add(self.env.now, "housing_package", package, "finished",
                                      None, None, None, None)
        return finish

    def step(self, month: int) -> None:
        """Move the households due into ready homes, in whole batches (the last may be short)."""
        can = min(self.due_by(month) - self.households_relocated, int(self.homes.level),
                  self.households_waiting)
        if can <= 0:
            return
        if can < self.households_waiting:
            can -= can % self.cfg.batch_households
        if can <= 0:
            return
        self.homes.get(can)  # one get a month; the level suffices
        self.households_waiting -= can
        self.households_relocated += can
        cfg = self.cfg
        self.jobs.add_workers(can * cfg.workers_per_household * cfg.district_share_of_workers)
        if self.poverty is not None:
            self.poverty.relocated(int(round(can * cfg.people_per_household)))

    def people_resettled(self) -> float:
        """People relocated so far (households x people per household)."""
        return self.households_relocated * self.cfg.people_per_household

    def indicators(self, month: int) -> dict[str, float]:
        """Waiting households, people resettled, housing money this month."""
        return {"households_waiting": float(self.households_waiting),
                "people_resettled": self.people_resettled(),
                "housing_spending_usd_m": self.spending_usd_m}
