"""District land: serviced from a budget, occupied by projects before they can build.

Free serviced land is a SimPy Container: a project takes its land (``get``) before construction
starts and waits, in order, while there is not enough. Servicing takes ``servicing_months`` from
spending to usable land and never goes beyond the serviceable share of the district's area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from gzsim.model.budget import monthly_amount
from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class LandProcess(Process):
    name = "land"
    section = "land"
    tick = 20
    INDICATORS = (
        Indicator("serviced_land_km2", "km2", "district", "stock",
                  "land serviced (developed) for firms"),
        Indicator("land_in_use_km2", "km2", "district", "stock",
                  "serviced land occupied by projects"),
        Indicator("land_spending_usd_m", "US$ m/month", "district", "flow",
                  "spending on servicing land that month"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        sc = district.scenario
        cfg = sc.land
        assert cfg is not None
        self.cfg = cfg
        self.room_km2 = sc.region.area_km2 * cfg.serviceable_share
        self.serviced_km2 = cfg.initial_serviced_km2
        self.pipeline_km2 = 0.0  # paid for, being serviced
        self.free = simpy.Container(district.env, capacity=self.room_km2 * (1 + 1e-9) + 1e-9,
                                    init=cfg.initial_serviced_km2)
        self.spending_usd_m = 0.0

    def budget(self, month: int) -> float:
        mult = self.d.levers(month).land_budget_multiplier
        return monthly_amount(self.cfg.budget, self.d.scenario.time, month) * mult

    def step(self, month: int) -> None:
        ready = self.d.ledger.get("land_ready_km2", month)
        if ready > 0:
            self.pipeline_km2 -= ready
            self.serviced_km2 += ready
            self.free.put(ready)
        km2 = min(self.budget(month) / self.cfg.cost_usd_m_per_km2,
                  max(0.0, self.room_km2 - self.serviced_km2 - self.pipeline_km2))
        self.spending_usd_m = km2 * self.cfg.cost_usd_m_per_km2
        if km2 > 0:
            self.pipeline_km2 += km2
            self.d.ledger.add("land_ready_km2", month + max(1, self.cfg.servicing_months), km2)

    def take(self, km2: float):
        """SimPy generator: wait until ``km2`` of free serviced land can be occupied."""
        km2 = min(km2, self.room_km2)
        if km2 > 0:
            yield self.free.get(km2)

    def in_use_km2(self) -> float:
        return self.serviced_km2 - self.free.level

    def indicators(self, month: int) -> dict[str, float]:
        return {"serviced_land_km2": self.serviced_km2, "land_in_use_km2": self.in_use_km2(),
                "land_spending_usd_m": self.spending_usd_m}
