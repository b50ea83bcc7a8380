"""District land: serviced from a budget into a ``Container`` that projects take their land from.

Free serviced land is a SimPy ``Container``. A project asks for its land ``lead_months`` after
signing (:meth:`LandProcess.take`); requests are served first come, first served (a Container's
get queue: a large request at the head blocks smaller ones behind it), and a project gives up
after its patience. Patience is kept by one timer for the whole queue, not one timeout per
request: patience is the same for every project, so deadlines fall in queue order, and the timer
sleeps until the oldest waiting request's deadline (``take_any_of`` is the textbook
``get | timeout(patience)``, kept to show they agree: tests/test_event_model.py).

Servicing: each month opens with ``budget / cost`` km2 started, plus a share ``s`` of the gap
between the reserve target ``R`` and the uncommitted land ``U = free + being serviced - claimed
by realised projects not started`` (the land reserve centres of Chinese cities keep a stock of
serviced land for investors): ``extra = s * max(0, R - U)``; never beyond the serviceable share of
the district's area. A servicing lot is a timeout whose callback puts its land into the
Container ``servicing_months`` later.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from gzsim.model.budget import monthly_amounts, released
from gzsim.model.clock import at
from gzsim.model.process import Indicator, Process

if TYPE_CHECKING:
    from simpy import Environment

    from gzsim.model.district import District

GAVE_UP = object()  # the value of a land request whose project ran out of patience


class LandProcess(Process):
    """Serviced land: a budget-driven supply into a Container, projects queue for it."""

    name = "land"
    section = "land"
    READS = ("investment",)
    STOCKS = ("land",)
    LOGS = {"land_lot": ("servicing", "serviced")}
    INDICATORS = (
        Indicator("serviced_land_km2", "km2", "district", "stock",
                  "land serviced (developed) for firms"),
        Indicator("land_in_use_km2", "km2", "district", "stock",
                  "serviced land occupied by projects"),
        Indicator("land_spending_usd_m", "US$ m/month", "district", "flow",
                  "spending on servicing land that month"),
    )
    patience = "timer"  # or "any_of": get | timeout(patience) per request (same results)

    def __init__(self, district: District):
        super().__init__(district)
        sc = district.scenario
        cfg = sc.land
        assert cfg is not None
        self.cfg = cfg
        self.room_km2 = sc.region.area_km2 * cfg.serviceable_share
        self.serviced_km2 = cfg.initial_serviced_km2
        self.pipeline_km2 = 0.0  # paid for, being serviced
        self.taken_km2 = 0.0  # occupied by projects
        self.spending_usd_m = 0.0
        self.lots = 0
        self._deadlines: deque[tuple[float, simpy.resources.container.ContainerGet]] = deque()
        self._wake: simpy.Event | None = None
        self._amounts = district.once("land.amounts", lambda: monthly_amounts(
            cfg.budget, district.scenario.time))  # before levers

    def start(self, env: Environment) -> None:
        """The land Container (free serviced land) and the patience timer."""
        self.land = simpy.Container(env, capacity=float("inf"), init=self.serviced_km2)
        env.process(self._timer())

    def budget(self, month: int) -> float:
        """US$ m for servicing land this month, with the land lever applied."""
        return released(self._amounts, self.cfg.budget, self.d.scenario.time, month,
                        self.d.levers(month).land_budget_multiplier)

    def open_month(self, month: int) -> None:
        """Start servicing this month's land; it joins the Container ``servicing_months`` on."""
        km2 = min(self.budget(month) / self.cfg.cost_usd_m_per_km2 + self.demand_km2(),
                  max(0.0, self.room_km2 - self.serviced_km2 - self.pipeline_km2))
        self.spending_usd_m = km2 * self.cfg.cost_usd_m_per_km2
        if km2 > 0:
            self.pipeline_km2 += km2
            lot = self.lots
            self.lots += 1
            if self.log is not None:
                self.log.add(self.env.now, "land_lot", lot, "servicing", None, None,
                                      None, km2)
            at(self.env, self.cfg.servicing_months, lambda _: self._serviced(lot, km2))

    def _serviced(self, lot: int, km2: float) -> None:
        self.pipeline_km2 -= km2
        self.serviced_km2 += km2
        self.land.put(km2)
        if self.log is not None:
            self.log.add(self.env.now, "land_lot", lot, "serviced", None, None, None,
                                  km2)

    def demand_km2(self) -> float:
        """Land serviced this month to refill the reserve (0 without a reserve target)."""
        share = self.cfg.reserve_refill_share_per_month
        if share == 0:
            return 0.0
        gap = self.cfg.reserve_target_km2 - self.uncommitted_km2()
        return share * gap if gap > 0 else 0.0

    def uncommitted_km2(self) -> float:
        """Free land and land being serviced, less what realised projects have claimed."""
        claimed = self.investment.claimed_km2 if self.investment is not None else 0.0
        return max(0.0, self.free_km2() + self.pipeline_km2 - claimed)

    def free_km2(self) -> float:
        """Free serviced land (the Container's level)."""
        return self.land.level

    # --- projects take land -----------------------------------------------------------------
    def take(self, km2: float, patience: float | None) -> simpy.Event:
        """An event: ``km2`` granted (first come, first served), or ``GAVE_UP`` after patience.

        A request granted at once is already triggered (the caller need not wait for it).
        """
        if self.patience == "any_of" and patience is not None:
            return self.env.process(self.take_any_of(km2, patience))
        req = self.land.get(min(km2, self.room_km2))
        if not req.triggered and patience is not None:
            self._deadlines.append((self.env.now + patience, req))
            if self._wake is not None and not self._wake.triggered:
                self._wake.succeed()
        return req

    def granted(self, km2: float) -> None:
        """A project occupies the land it was granted."""
        self.taken_km2 += min(km2, self.room_km2)

    def take_any_of(self, km2: float, patience: float):
        """The textbook form: ``get | timeout(patience)``, one timeout per request."""
        req = self.land.get(min(km2, self.room_km2))
        done = yield req | self.env.timeout(patience)
        if req in done:
            return req.value
        req.cancel()
        self.land._trigger_get(None)  # the head left: the next requests may now fit
        return GAVE_UP

    def _timer(self):
        """Give up the oldest waiting request at its deadline (deadlines are in queue order)."""
        env, q = self.env, self._deadlines
        while True:
            if not q:
                self._wake = env.event()
                yield self._wake
                continue
            deadline, req = q[0]
            if req.triggered:
                q.popleft()
            elif deadline > env.now:
                yield env.timeout(deadline - env.now)
            else:
                q.popleft()
                req.cancel()
                req.succeed(GAVE_UP)
                self.land._trigger_get(None)  # the head left: the next requests may now fit

    def in_use_km2(self) -> float:
        """Serviced land occupied by projects."""
        return self.taken_km2

    def indicators(self, month: int) -> dict[str, float]:
        """Serviced land, land in use and servicing spending this month."""
        return {"serviced_land_km2": self.serviced_km2, "land_in_use_km2": self.in_use_km2(),
                "land_spending_usd_m": self.spending_usd_m}
