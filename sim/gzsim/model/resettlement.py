"""Resettlement (province scale): homes built from a housing budget, households moved in batches.

Finished, empty homes are a SimPy Container. Money accumulates; each time it covers a package of
``homes_per_start`` homes (never more homes than households still to house), the package is
built in ``build_months`` and its homes are put in the container. Households move in batches
as soon as a batch's homes are ready: they leave the waiting stock, their workers join the
labour pool (the district's share of them) and their people enter the poverty process as
relocated households.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from gzsim.model.budget import monthly_amount
from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class ResettlementProcess(Process):
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
        self.homes = simpy.Container(district.env)  # finished homes not yet moved into
        self.fund_usd_m = 0.0
        self.spending_usd_m = 0.0
        district.env.process(self.relocate())

    def budget(self, month: int) -> float:
        mult = self.d.levers(month).housing_budget_multiplier
        return monthly_amount(self.cfg.housing_budget, self.d.scenario.time, month) * mult

    def step(self, month: int) -> None:
        to_build = self.households_total - self.homes_started
        if to_build <= 0:
            self.spending_usd_m = 0.0
            return
        money = self.budget(month)
        self.spending_usd_m = money
        self.fund_usd_m += money
        cost = self.cfg.cost_usd_m_per_home
        while to_build > 0:
            n = min(self.cfg.homes_per_start, to_build)
            if self.fund_usd_m < n * cost:
                break
            self.fund_usd_m -= n * cost
            self.homes_started += n
            to_build -= n
            self.d.env.process(self.build(n))

    def build(self, n: int):
        yield self.d.env.timeout(self.cfg.build_months)
        yield self.homes.put(n)

    def relocate(self):
        """Move households in batches as their homes become ready."""
        while self.households_waiting > 0:
            batch = min(self.cfg.batch_households, self.households_waiting)
            yield self.homes.get(batch)
            self.households_waiting -= batch
            self.households_relocated += batch
            self.d.on_relocated(batch, int(self.d.env.now))

    def people_resettled(self) -> float:
        return self.households_relocated * self.cfg.people_per_household

    def indicators(self, month: int) -> dict[str, float]:
        return {"households_waiting": float(self.households_waiting),
                "people_resettled": self.people_resettled(),
                "housing_spending_usd_m": self.spending_usd_m}
