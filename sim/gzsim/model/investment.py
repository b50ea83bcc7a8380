"""Investment inflow: signing, realisation, land, construction, operation, depreciation, exit.

One monthly step, no process per project (only the wait for land needs a queue, and it is a
plain first-come-first-served list served each month). At the end of month ``m``:

1. Signings: ``n ~ Poisson(rate(m))`` by inversion of one uniform (so a higher rate never
   means fewer projects under common random numbers); the j-th project of month m takes row
   ``(m, j)`` of a bank of uniforms for its within-month time, sector, size, realisation,
   duration and exit time, so it is the same project in every scenario.
2. Screening rejects sectors above the policy's pollution class; a signed project is realised
   with probability ``realisation_share * fiscal_factor(m)`` (funds actually in place).
3. ``lead_months`` after signing a realised project asks for its land; projects wait in signing
   order while there is none, and give up after ``max_land_wait_months`` (abandoned).
   Construction then disburses size/d a month for d months; the firm operates from the month
   after and its capital ramps up linearly over ``ramp_up_months``.
4. Operating capital depreciates at ``depreciation_rate_per_year``; a firm closes after an
   exponential time with hazard ``exit_hazard_per_year`` and its remaining capital leaves.

Operating capital by sector (``capital``, in sector order, read by jobs and the fiscal book):
``K(m) = K(m-1) * (1 - delta) + added(m) - removed(m)``, delta the monthly depreciation rate.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict, deque
from dataclasses import dataclass
from itertools import accumulate
from statistics import NormalDist
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.special import ndtri

from gzsim.model.budget import annual_amount, budget_start_month, growth_factor
from gzsim.model.draws import poisson_inverse
from gzsim.model.process import Indicator, Process, register
from gzsim.model.streams import UniformBank

if TYPE_CHECKING:
    from gzsim.model.district import District

_INV_NORMAL = NormalDist().inv_cdf
SLOTS = 64  # uniform rows reserved per month (modelling granularity, not a regional figure)
_TINY = 1e-16


@dataclass(frozen=True)
class SectorDraw:
    """Precomputed per-sector constants for fast draws."""

    name: str
    index: int
    log_mu: float
    log_sigma: float
    months_min: int
    months_max: int
    pollution_class: int
    land_km2_per_usd_m: float


class Waiting(NamedTuple):
    """A realised project waiting for its construction month (and its land)."""

    ready_month: int
    sector: SectorDraw
    size_usd_m: float
    u_duration: float
    u_exit: float


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given mean and coefficient of variation."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def monthly_rate(rate_per_year: float) -> float:
    """Monthly rate equivalent to an annual proportional rate (``1 - (1 - r)^(1/12)``)."""
    return 1.0 - (1.0 - rate_per_year) ** (1 / 12)


@register
class InvestmentProcess(Process):
    """Signs, realises, builds and operates the district's investment projects."""

    name = "investment"
    section = "investment"
    tick = 30
    STREAMS = ("investment.arrivals", "investment.projects", "investment.projects.spill")
    INDICATORS = (
        Indicator("investment_usd_m", "US$ m/month", "district", "flow",
                  "fixed-asset investment disbursed that month by projects under construction"),
        Indicator("committed_usd_m", "US$ m/month", "district", "flow",
                  "value of investment projects signed that month (signed is not realised)"),
        Indicator("committed_pollution_weighted_usd_m", "US$ m x class/month", "district",
                  "flow", "signed investment weighted by its sector's pollution class (0 clean "
                  "... 5 heavy): the polluting load that screening acts on"),
        Indicator("realised_usd_m", "US$ m/month", "district", "flow",
                  "value of signed projects with funds in place that month (will be disbursed "
                  "unless abandoned)"),
        Indicator("abandoned_usd_m", "US$ m/month", "district", "flow",
                  "realised projects given up that month after waiting too long for land"),
        Indicator("pipeline_usd_m", "US$ m", "district", "stock",
                  "realised money not yet disbursed (waiting for land or construction, or booked "
                  "later)"),
        Indicator("firms_operating", "firms", "district", "stock",
                  "projects that have finished construction and operate, less firms that closed"),
        Indicator("attractiveness", "multiplier", "district", "stock",
                  "multiplier on next month's project arrival rate (accessibility, land, "
                  "incentives, labour shortage)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        sc = district.scenario
        self.inv = sc.investment
        self.sectors = []
        for i, (name, s) in enumerate(sc.sectors.items()):
            mu, sigma = lognormal_params(s.size.mean_usd_m, s.size.cv)
            self.sectors.append(SectorDraw(
                name, i, mu, sigma, s.construction_months.min, s.construction_months.max,
                s.pollution_class, s.land_km2_per_usd_m))
        self.n_projects = 0
        self.n_spill = 0
        self.not_started_usd_m = 0.0  # realised, waiting for construction to start
        self.claimed_km2 = 0.0  # land the realised projects not yet started will need
        self.waiting: deque[Waiting] = deque()
        self.capital = [0.0] * len(self.sectors)  # operating capital by sector, US$ m
        # books by month (plain dicts, the hot path): ramp-up increments as changes in the
        # monthly rate, capital removed by exits, and the change in operating firms
        self.added_rate = [0.0] * len(self.sectors)
        self.added_change: list[defaultdict[int, float]] = [defaultdict(float)
                                                           for _ in self.sectors]
        self.removed: list[defaultdict[int, float]] = [defaultdict(float) for _ in self.sectors]
        self.firms_change: defaultdict[int, int] = defaultdict(int)
        self.delta = monthly_rate(self.inv.depreciation_rate_per_year)
        self.arrival_rng = self.rng("investment.arrivals")
        # the j-th project signed in month m takes row m * SLOTS + j: a project keeps its
        # attributes across scenarios even when earlier months had more or fewer signings
        rows = self.rng("investment.projects").random((district.n_months * SLOTS, 6))
        rows[:, 2] = ndtri(np.clip(rows[:, 2], _TINY, 1 - _TINY))  # size uniform -> z-score
        self.rows = rows
        self.spill = UniformBank(self.rng("investment.projects.spill"), 6)
        self._cum_cache: tuple[object, list[float]] | None = None
        self._accepted: tuple[object, list[bool]] | None = None
        self._attractiveness: tuple[int, float] | None = None
        self._capacity: list[float] | None = None  # fiscal capacity by month (US$ m/yr)
        self._base_rates = district.once("investment.base_rates", lambda: [
            self._base_rate(m) for m in range(district.n_months)])
        self.booked_usd_m = 0.0  # disbursement booked by projects that started construction
        self.disbursing_usd_m = 0.0  # disbursed in the month last stepped
        self.disb_change: defaultdict[int, float] = defaultdict(float)  # changes in that rate
        self.disb_started: defaultdict[int, float] = defaultdict(float)  # rate of new starts
        self.started_usd_m = 0.0  # of the month's disbursement, the rate of projects starting
        self.disbursed_usd_m = 0.0  # of which paid out up to the last month stepped
        self.firms = 0.0  # operating firms at the end of the last month stepped

    def base_rate(self, month: int) -> float:
        """Projects per month before feedbacks: the start rate grown at the (decaying) rate."""
        rates = self._base_rates
        if 0 <= month < len(rates):
            return rates[month]
        return self._base_rate(month)

    def _base_rate(self, month: int) -> float:
        return self.inv.arrival_rate_per_month * growth_factor(
            self.inv.growth_rate_per_year, self.inv.growth_half_life_years, month / 12)

    def fiscal_factor(self, month: int) -> float:
        """Multiplier on the realisation share from the province's fiscal stress (1 = none)."""
        fr = self.inv.fiscal_room
        net = self.d.infrastructure
        if fr is None or net is None:
            return 1.0
        if self._capacity is None:  # the capacity path does not depend on the run: once
            self._capacity = self.d.once("investment.capacity", self._capacity_path)
        capacity = self._capacity[month]
        if capacity <= 0:
            return fr.floor
        stress = net.released_last_year_usd_m(month) / capacity
        excess = max(0.0, stress - fr.stress_threshold)
        return max(fr.floor, 1.0 - fr.realisation_elasticity * excess)

    def _capacity_path(self) -> list[float]:
        """Fiscal capacity by month (US$ m/yr)."""
        fr = self.inv.fiscal_room
        first = budget_start_month(fr.capacity, self.d.scenario.time)
        return [annual_amount(fr.capacity, (m - first) / 12) for m in range(self.d.n_months)]

    def step(self, month: int) -> None:
        """Sign the month's projects, start those due, update operating capital."""
        self.sign(month)
        self.start_construction(month)
        self.update_capital(month)

    def sign(self, month: int) -> None:
        """Draw the month's signings; screen, commit and realise them (booked once a month)."""
        d = self.d
        rate = (self.base_rate(month) * self.attractiveness(month)
                * d.levers(month).investment_rate_multiplier)
        n = poisson_inverse(float(self.arrival_rng.random()), rate)
        if n == 0:
            return
        first = month * SLOTS
        rows = self.rows[first:first + min(n, SLOTS)].tolist()
        for _ in range(n - len(rows)):  # a month with more than SLOTS signings (rare)
            extra = self.spill.row(self.n_spill).tolist()
            extra[2] = _INV_NORMAL(min(max(extra[2], _TINY), 1 - _TINY))
            rows.append(extra)
            self.n_spill += 1
        self.n_projects += n
        rows.sort(key=lambda r: r[0])  # signing order within the month
        p_realise = self.inv.realisation_share * self.fiscal_factor(month)
        cum = self.cumulative_weights(month)
        levers = d.levers(month)
        if self._accepted is None or self._accepted[0] is not levers:
            self._accepted = (levers, [d.screening_accepts(sec, month) for sec in self.sectors])
        accepted = self._accepted[1]
        sectors = self.sectors
        committed = rejected = realised = polluting = 0.0
        signed = 0
        for _, u_sector, z_size, u_real, u_dur, u_exit in rows:
            sector = sectors[bisect_right(cum, u_sector * cum[-1])]  # u < 1: never past the end
            size = math.exp(sector.log_mu + sector.log_sigma * z_size)
            if not accepted[sector.index]:
                rejected += size
                continue
            committed += size
            polluting += size * sector.pollution_class
            signed += 1
            if u_real >= p_realise:
                continue  # signed but never realised (funds never in place)
            realised += size
            self.claimed_km2 += size * sector.land_km2_per_usd_m
            self.waiting.append(Waiting(month + self.inv.lead_months, sector, size, u_dur,
                                        u_exit))
        self.not_started_usd_m += realised
        led = d.ledger
        for name, value in (("rejected_usd_m", rejected), ("committed_usd_m", committed),
                            ("projects_signed", signed), ("realised_usd_m", realised),
                            ("committed_pollution_weighted_usd_m", polluting)):
            if value:
                led.add(name, month, value)

    def attractiveness(self, month: int) -> float:
        """The arrival multiplier of ``month``, from the state at the end of the month before.

        It is the value reported as last month's ``attractiveness``, computed once.
        """
        cached = self._attractiveness
        if cached is not None and cached[0] == month:
            return cached[1]
        value = self.d.attractiveness(month)
        self._attractiveness = (month, value)
        return value

    def cumulative_weights(self, month: int) -> list[float]:
        """Cumulative sector weights in force (recomputed only when the weights change)."""
        weights = self.d.sector_weights(month)
        if self._cum_cache is None or self._cum_cache[0] is not weights:
            self._cum_cache = (weights, list(accumulate(float(w) for w in weights)))
        return self._cum_cache[1]

    def start_construction(self, month: int) -> None:
        """Projects due next month take their land in signing order; the first without waits."""
        land = self.d.land
        max_wait = self.inv.max_land_wait_months
        while self.waiting and self.waiting[0].ready_month <= month + 1:
            w = self.waiting[0]
            if max_wait is not None and month + 1 - w.ready_month > max_wait:
                self.waiting.popleft()  # the investor gave up waiting for land
                self.not_started_usd_m -= w.size_usd_m
                self.claimed_km2 -= w.size_usd_m * w.sector.land_km2_per_usd_m
                self.d.ledger.add("abandoned_usd_m", month, w.size_usd_m)
                continue
            if land is not None and not land.try_take(w.size_usd_m * w.sector.land_km2_per_usd_m):
                return
            self.waiting.popleft()
            self.not_started_usd_m -= w.size_usd_m
            self.claimed_km2 -= w.size_usd_m * w.sector.land_km2_per_usd_m
            self.build(w, max(w.ready_month, month + 1))

    def build(self, w: Waiting, start: int) -> None:
        """Book a project's disbursement, operation, ramp-up and (possibly) exit."""
        s = w.sector
        span = s.months_max - s.months_min + 1
        duration = s.months_min + min(int(w.u_duration * span), span - 1)
        per_month = w.size_usd_m / duration
        self.disb_change[start] += per_month  # disbursed from ``start`` ...
        self.disb_started[start] += per_month  # (new construction sites: created positions)
        self.disb_change[start + duration] -= per_month  # ... for ``duration`` months
        self.booked_usd_m += w.size_usd_m
        op = start + duration
        ramp = self.inv.ramp_up_months
        self.firms_change[op] += 1
        per_month = w.size_usd_m / ramp
        self.added_change[s.index][op] += per_month  # ramp increments from op ...
        self.added_change[s.index][op + ramp] -= per_month  # ... for ramp months
        h = self.inv.exit_hazard_per_year
        if h <= 0:
            return
        exit_month = op + max(1, math.ceil(-math.log1p(-min(w.u_exit, 1 - _TINY)) / h * 12))
        if exit_month >= self.d.n_months:
            return  # still operating at the horizon
        self.firms_change[exit_month] -= 1
        self.removed[s.index][exit_month] += self.capital_at(w.size_usd_m, op, ramp, exit_month)

    def capital_at(self, size: float, op: int, ramp: int, month: int) -> float:
        """One firm's depreciated capital in ``month`` (ramp increments size/ramp from ``op``)."""
        keep = 1.0 - self.delta
        last = min(month, op + ramp - 1)
        n = last - op + 1
        if n <= 0:
            return 0.0
        if keep == 1.0:
            return size / ramp * n
        # sum_{j=op}^{last} keep^(month - j) = keep^(month-last) * (1 - keep^n) / (1 - keep)
        return size / ramp * keep ** (month - last) * (1 - keep ** n) / (1 - keep)

    def update_capital(self, month: int) -> None:
        """Depreciate, add ramp-up increments, remove exiting firms' capital; count firms."""
        rate = self.disbursing_usd_m + self.disb_change.pop(month, 0.0)
        self.disbursing_usd_m = rate if rate > 1e-9 else 0.0  # no rounding residue
        self.disbursed_usd_m += self.disbursing_usd_m
        self.started_usd_m = self.disb_started.pop(month, 0.0)
        keep = 1.0 - self.delta
        for i in range(len(self.sectors)):
            self.added_rate[i] += self.added_change[i].pop(month, 0.0)
            k = (self.capital[i] * keep + self.added_rate[i]
                 - self.removed[i].pop(month, 0.0))
            self.capital[i] = k if k > 1e-9 else 0.0
        self.firms += self.firms_change.pop(month, 0)

    def waiting_for_land(self) -> int:
        """Realised projects not yet started (due for construction or waiting for land)."""
        return len(self.waiting)

    def pipeline_usd_m(self, month: int) -> float:
        """Realised money not yet disbursed at the end of ``month`` (the month last stepped).

        It waits to start construction, or is booked for later months.
        """
        return self.not_started_usd_m + self.booked_usd_m - self.disbursed_usd_m

    def indicators(self, month: int) -> dict[str, float]:
        """Money booked this month, the pipeline, firms, next month's pull."""
        led = self.d.ledger
        return {
            "investment_usd_m": self.disbursing_usd_m,
            "committed_usd_m": led.get("committed_usd_m", month),
            "committed_pollution_weighted_usd_m": led.get("committed_pollution_weighted_usd_m",
                                                          month),
            "realised_usd_m": led.get("realised_usd_m", month),
            "abandoned_usd_m": led.get("abandoned_usd_m", month),
            "pipeline_usd_m": self.pipeline_usd_m(month),
            "firms_operating": float(self.firms),
            "attractiveness": self.attractiveness(month + 1),
        }
