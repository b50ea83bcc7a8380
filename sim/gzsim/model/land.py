"""District land: serviced from a budget, occupied by projects before they can build.

Free serviced land is a counter: the investment process asks for a project's land
(:meth:`LandProcess.try_take`) when its construction is due, and projects wait in signing order
(first come, first served) while there is not enough. Servicing takes ``servicing_months`` from
spending to usable land and never goes beyond the serviceable share of the district's area.

Servicing is budget-led, plus demand-led through a land reserve (the land reserve centres of
Chinese cities and districts keep a stock of serviced land for investors): each month the
district also starts servicing a share ``s`` of the gap between its reserve target ``R`` and
the uncommitted land ``U = free + being serviced - claimed by realised projects not started``,
``extra = s * max(0, R - U)``. More projects then bring more servicing instead of leaving less
land for the next ones (docs/model.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gzsim.model.budget import monthly_amounts, released
from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class LandProcess(Process):
    """Serviced land: a budget-driven supply and a free-land counter."""

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
        self.free_km2 = cfg.initial_serviced_km2
        self.spending_usd_m = 0.0
        self._amounts = district.once("land.amounts", lambda: monthly_amounts(
            cfg.budget, district.scenario.time))  # before levers

    def budget(self, month: int) -> float:
        """US$ m for servicing land this month, with the land lever applied."""
        return released(self._amounts, self.cfg.budget, self.d.scenario.time, month,
                        self.d.levers(month).land_budget_multiplier)

    def step(self, month: int) -> None:
        """Land that finished servicing becomes free; this month's money starts servicing."""
        ready = self.d.ledger.get("land_ready_km2", month)
        if ready > 0:
            self.pipeline_km2 -= ready
            self.serviced_km2 += ready
            self.free_km2 += ready
        km2 = min(self.budget(month) / self.cfg.cost_usd_m_per_km2 + self.demand_km2(),
                  max(0.0, self.room_km2 - self.serviced_km2 - self.pipeline_km2))
        self.spending_usd_m = km2 * self.cfg.cost_usd_m_per_km2
        if km2 > 0:
            self.pipeline_km2 += km2
            self.d.ledger.add("land_ready_km2", month + max(1, self.cfg.servicing_months), km2)

    def demand_km2(self) -> float:
        """Land serviced this month to refill the reserve (0 without a reserve target)."""
        share = self.cfg.reserve_refill_share_per_month
        if share == 0:
            return 0.0
        gap = self.cfg.reserve_target_km2 - self.uncommitted_km2()
        return share * gap if gap > 0 else 0.0

    def uncommitted_km2(self) -> float:
        """Free land and land being serviced, less what realised projects have claimed."""
        return max(0.0, self.free_km2 + self.pipeline_km2 - self.d.investment.claimed_km2)

    def try_take(self, km2: float) -> bool:
        """Occupy ``km2`` of free serviced land if there is enough (never more than the room)."""
        km2 = min(km2, self.room_km2)
        if km2 > self.free_km2 + 1e-12:
            return False
        self.free_km2 = max(0.0, self.free_km2 - km2)
        return True

    def in_use_km2(self) -> float:
        """Serviced land occupied by projects."""
        return self.serviced_km2 - self.free_km2

    def indicators(self, month: int) -> dict[str, float]:
        """Serviced land, land in use and servicing spending this month."""
        return {"serviced_land_km2": self.serviced_km2, "land_in_use_km2": self.in_use_km2(),
                "land_spending_usd_m": self.spending_usd_m}
