"""Investment: projects signed by a time-changed Poisson process, each realised one a SimPy process.

Arrivals (time change of a unit-rate Poisson process): the points ``S_k`` are cumulative
Exp(1) draws (in blocks, from ``investment.arrivals``); with ``Lambda(t)`` the integrated
intensity (base rate x attractiveness x the rate lever, constant within a month), project ``k``
is signed at the time ``t`` where ``Lambda(t) = S_k``, so ``N(t) = #{S_k < Lambda(t)}``. A lever
that raises the intensity never signs fewer projects by any date under common random numbers,
and project ``k`` takes row ``k`` of ``investment.projects`` (sector, size, realisation,
duration, exit): it is the same project in every scenario. A month's signings are found at once
when the month opens (their times are known from the points); only realised ones get a process.

A realised project's life (a generator): wait ``lead_months`` -> ask the land ``Container`` for
its land (first come, first served; it gives up after ``max_land_wait_months``: abandoned) ->
build for ``d`` months, disbursing size/d a month (a rate, integrated by month) -> operate: its
capital ramps up linearly over ``ramp_up_months`` -> exit after an exponential time with hazard
``exit_hazard_per_year`` (only an exit before the horizon is an event). Screening rejects sectors
above the policy's pollution class; a signed project is realised with probability
``realisation_share * fiscal_factor``.

Operating capital by sector (read by jobs and the fiscal process), at each month end:
``K(m) = K(m-1) * (1 - delta) + added(m) - removed(m)``: ``added`` integrates the ramp-up rates,
``removed`` is the depreciated capital of firms that closed in the month.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from gzsim.model.attractiveness import attractiveness
from gzsim.model.budget import annual_amount, budget_start_month, growth_factor
from gzsim.model.clock import MonthFlow
from gzsim.model.land import GAVE_UP
from gzsim.model.process import Indicator, Process

if TYPE_CHECKING:
    from simpy import Environment

    from gzsim.model.district import District

_TINY = 1e-16
_BLOCK = 256  # arrival points drawn at a time


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
    span: int  # number of possible construction durations (max - min + 1)


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given mean and coefficient of variation."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def monthly_rate(rate_per_year: float) -> float:
    """Monthly rate equivalent to an annual proportional rate (``1 - (1 - r)^(1/12)``)."""
    return 1.0 - (1.0 - rate_per_year) ** (1 / 12)


def capital_at(size: float, op: float, ramp: int, month: int, keep: float,
               stop: float = math.inf) -> float:
    """One firm's depreciated capital at the end of ``month``.

    Its capital rises at size/ramp a month from ``op`` until ``op + ramp`` (or ``stop``, its
    exit); what was added in month j has depreciated by ``keep ** (month - j)``.
    """
    end = min(op + ramp, stop)
    total = 0.0
    for j in range(int(op), min(month, math.ceil(end) - 1) + 1):
        overlap = min(j + 1, end) - max(j, op)
        if overlap > 0:
            total += size / ramp * overlap * keep ** (month - j)
    return total


class ArrivalPoints:
    """The unit-rate Poisson points ``S_k`` (cumulative Exp(1)), drawn in blocks."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self.points: list[float] = []

    def cover(self, level: float) -> list[float]:
        """The points, drawn at least until one is at or above ``level``."""
        pts = self.points
        while not pts or pts[-1] < level:
            last = pts[-1] if pts else 0.0
            pts += (last + np.cumsum(self._rng.exponential(1.0, _BLOCK))).tolist()
        return pts

    def count_below(self, level: float) -> int:
        """``N = #{S_k < level}``."""
        return bisect_left(self.cover(level), level)


class ProjectRows:
    """Row ``k`` holds project ``k``'s uniforms, drawn in blocks from its own stream.

    Sector, size (as a z-score), realisation, duration, exit: an entity draws only from its own
    row, so reordering events never shifts another entity's draws.
    """

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self.rows: list[list[float]] = []

    def upto(self, n: int) -> list[list[float]]:
        """The rows, at least ``n`` of them."""
        rows = self.rows
        while len(rows) < n:
            block = self._rng.random((_BLOCK, 5))
            block[:, 1] = ndtri(np.clip(block[:, 1], _TINY, 1 - _TINY))  # size uniform -> z
            rows += block.tolist()
        return rows


class InvestmentProcess(Process):
    """Signs projects and runs each realised one as a SimPy process (see the module)."""

    name = "investment"
    section = "investment"
    READS = ("land", "infrastructure", "jobs")
    STREAMS = ("investment.arrivals", "investment.projects")
    LOGS = {"project": ("signed", "asks_land", "gave_up", "construction", "operating", "exit")}
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
                  "realised money not yet disbursed (in lead time, waiting for land, or still to "
                  "be disbursed by projects under construction)"),
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
        self.n_months = district.n_months
        self.sectors = []
        for i, (name, s) in enumerate(sc.sectors.items()):
            mu, sigma = lognormal_params(s.size.mean_usd_m, s.size.cv)
            self.sectors.append(SectorDraw(
                name, i, mu, sigma, s.construction_months.min, s.construction_months.max,
                s.pollution_class, s.land_km2_per_usd_m,
                s.construction_months.max - s.construction_months.min + 1))
        self._weights = np.array([s.weight for s in sc.sectors.values()], dtype=float)
        self.points = ArrivalPoints(self.rng("investment.arrivals"))
        self.rows = ProjectRows(self.rng("investment.projects"))
        self.intensity = 0.0  # Lambda at the start of the current month
        self.n_signed = 0  # arrival points used so far (projects signed, screened or not)
        self.delta = monthly_rate(self.inv.depreciation_rate_per_year)
        self.keep = 1.0 - self.delta
        self._cum_cache: tuple[object, list[float]] | None = None
        self._accepted: tuple[object, list[bool]] | None = None
        self._attractiveness: tuple[int, float] | None = None
        self._capacity: list[float] | None = None
        self._base_rates = district.once("investment.base_rates", lambda: [
            self._base_rate(m) for m in range(district.n_months)])
        # stocks and the month's flows
        self.not_started_usd_m = 0.0  # realised, construction not started
        self.not_started = 0  # realised projects not started (lead time or land queue)
        self.claimed_km2 = 0.0  # land the realised projects not yet started will need
        self.booked_usd_m = 0.0  # size of projects that started construction
        self.disbursed_total_usd_m = 0.0  # paid out up to the last month closed
        self.capital = [0.0] * len(self.sectors)  # operating capital by sector, US$ m
        self.added_usd_m = [0.0] * len(self.sectors)  # ramp-up added in the last month closed
        self.firms = 0
        self.month_flows = dict.fromkeys(
            ("committed_usd_m", "committed_pollution_weighted_usd_m", "realised_usd_m",
             "rejected_usd_m", "projects_signed", "abandoned_usd_m"), 0.0)
        self.started_rate_usd_m = 0.0  # monthly disbursement rate of projects started this month
        self._removed = [0.0] * len(self.sectors)
        self.disbursing_usd_m = 0.0  # disbursed in the last month closed
        self.started_usd_m = 0.0  # of it, the monthly rate of projects started in that month
        self.last: dict[str, float] = {}

    def start(self, env: Environment) -> None:
        """The disbursement and ramp-up rates (flows integrated by month)."""
        self.disbursement = MonthFlow(env)
        self.ramp = [MonthFlow(env) for _ in self.sectors]

    # --- arrivals ---------------------------------------------------------------------------
    def base_rate(self, month: int) -> float:
        """Projects per month before feedbacks: the start rate grown at the (decaying) rate."""
        rates = self._base_rates
        if 0 <= month < len(rates):
            return rates[month]
        return self._base_rate(month)

    def _base_rate(self, month: int) -> float:
        return self.inv.arrival_rate_per_month * growth_factor(
            self.inv.growth_rate_per_year, self.inv.growth_half_life_years, month / 12)

    def rate(self, month: int) -> float:
        """The arrival intensity in ``month`` (projects per month)."""
        return (self.base_rate(month) * self.attractiveness(month)
                * self.d.levers(month).investment_rate_multiplier)

    def fiscal_factor(self, month: int) -> float:
        """Multiplier on the realisation share from the province's fiscal stress (1 = none)."""
        fr = self.inv.fiscal_room
        net = self.infrastructure
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
        return [annual_amount(fr.capacity, (m - first) / 12) for m in range(self.n_months)]

    def attractiveness(self, month: int) -> float:
        """The arrival multiplier of ``month``, from the state at the end of the month before.

        It is the value reported as last month's ``attractiveness``, computed once.
        """
        cached = self._attractiveness
        if cached is not None and cached[0] == month:
            return cached[1]
        net, land = self.infrastructure, self.land
        value = attractiveness(
            self.d.scenario.attractiveness,
            accessibility=net.accessibility() if net is not None else 1.0,
            free_land_km2=self.uncommitted_land_km2() if land is not None else None,
            tax_incentive_share=self.d.levers(month).tax_incentive_share,
            shortage=self.jobs.shortage())
        self._attractiveness = (month, value)
        return value

    def uncommitted_land_km2(self) -> float:
        """Free land and land being serviced, less what realised projects have claimed."""
        return max(0.0, self.land.free_km2() + self.land.pipeline_km2 - self.claimed_km2)

    def cumulative_weights(self, month: int) -> list[float]:
        """Cumulative sector weights in force (recomputed only when the levers change)."""
        levers = self.d.levers(month)
        if self._cum_cache is None or self._cum_cache[0] is not levers:
            mult = levers.sector_weight_multipliers
            w = self._weights if not mult else self._weights * np.array(
                [mult.get(s.name, 1.0) for s in self.sectors])
            self._cum_cache = (levers, list(accumulate(float(x) for x in w)))
        return self._cum_cache[1]

    def accepted(self, month: int) -> list[bool]:
        """Whether each sector passes the environmental screening in force."""
        levers = self.d.levers(month)
        if self._accepted is None or self._accepted[0] is not levers:
            limit = levers.max_pollution_class
            self._accepted = (levers, [limit is None or s.pollution_class <= limit
                                       for s in self.sectors])
        return self._accepted[1]

    def open_month(self, month: int) -> None:
        """Sign the month's projects (their times from the points) and launch realised ones."""
        rate = self.rate(month)
        lo = self.intensity
        hi = lo + rate
        self.intensity = hi
        if rate <= 0:
            return
        first = self.n_signed
        last = self.points.count_below(hi)  # N(month + 1) = #{S_k < Lambda(month + 1)}
        if last == first:
            return
        self.n_signed = last
        points = self.points.points
        rows = self.rows.upto(last)
        p_realise = self.inv.realisation_share * self.fiscal_factor(month)
        cum = self.cumulative_weights(month)
        total = cum[-1]
        accepted = self.accepted(month)
        sectors, log = self.sectors, self.log
        process, project = self.env.process, self.project
        exp = math.exp
        rejected = committed = polluting = realised = claimed = 0.0
        signed = started = 0
        for k in range(first, last):
            t = month + (points[k] - lo) / rate
            u_sector, z, u_real, u_dur, u_exit = rows[k]
            sector = sectors[bisect_right(cum, u_sector * total)]
            size = exp(sector.log_mu + sector.log_sigma * z)
            if log is not None:
                log.add(t, "project", k, "signed", sector.name, size, None, None)
            if not accepted[sector.index]:
                rejected += size
                continue
            committed += size
            polluting += size * sector.pollution_class
            signed += 1
            if u_real < p_realise:
                realised += size
                started += 1
                claimed += size * sector.land_km2_per_usd_m
                process(project(k, t, sector, size, u_dur, u_exit))
        flows = self.month_flows
        flows["rejected_usd_m"] += rejected
        flows["committed_usd_m"] += committed
        flows["committed_pollution_weighted_usd_m"] += polluting
        flows["projects_signed"] += signed
        flows["realised_usd_m"] += realised
        self.not_started_usd_m += realised
        self.not_started += started
        self.claimed_km2 += claimed

    # --- a project's life ---------------------------------------------------------------------
    def project(self, k: int, signed: float, sector: SectorDraw, size: float, u_dur: float,
                u_exit: float):
        """One realised project: lead time, land, construction, operation, exit.

        One flat generator: it is the model's hot path.
        """
        env, log = self.env, self.log
        yield env.timeout(signed + self.inv.lead_months - env.now)
        km2 = size * sector.land_km2_per_usd_m
        land = self.land
        if land is not None and km2 > 0:
            if log is not None:
                log.add(env.now, "project", k, "asks_land", sector.name, size, None, None)
            req = land.take(km2, self.inv.max_land_wait_months)
            if not req.triggered:  # (granted at once: go on)
                yield req
            if req.value is GAVE_UP:
                self._gave_up(k, sector, size, km2)
                return
            land.granted(km2)
        self.not_started_usd_m -= size
        self.not_started -= 1
        self.claimed_km2 -= km2
        duration = sector.months_min + min(int(u_dur * sector.span), sector.span - 1)
        per_month = size / duration
        self.disbursement.change(per_month)
        self.started_rate_usd_m += per_month
        self.booked_usd_m += size
        if log is not None:
            log.add(env.now, "project", k, "construction", sector.name, size, None, None)
        yield env.timeout(duration)
        self.disbursement.change(-per_month)
        # operation: the capital ramps up; an exit only when it comes before the horizon
        op = env.now
        self.firms += 1
        if log is not None:
            log.add(op, "project", k, "operating", sector.name, size, None, None)
        ramp, rate = self.ramp[sector.index], size / self.inv.ramp_up_months
        ramp.change(rate)
        exit_at = op + self.exit_after(u_exit)
        ramp_end = op + self.inv.ramp_up_months
        if ramp_end < self.n_months or exit_at < self.n_months:
            yield env.timeout(min(exit_at, ramp_end) - op)
            ramp.change(-rate)
            if exit_at < self.n_months:
                if exit_at > ramp_end:
                    yield env.timeout(exit_at - ramp_end)
                self._exit(k, sector, size, op)

    def exit_after(self, u_exit: float) -> float:
        """Months from the start of operation to the firm's exit (at least one; inf: none)."""
        h = self.inv.exit_hazard_per_year
        if h <= 0:
            return math.inf
        return max(1.0, -math.log1p(-min(u_exit, 1 - _TINY)) / h * 12)

    def _gave_up(self, k: int, sector: SectorDraw, size: float, km2: float) -> None:
        self.not_started_usd_m -= size
        self.not_started -= 1
        self.claimed_km2 -= km2
        self.month_flows["abandoned_usd_m"] += size
        if self.log is not None:
            self.log.add(self.env.now, "project", k, "gave_up", sector.name, size, None, None)

    def _exit(self, k: int, sector: SectorDraw, size: float, op: float) -> None:
        now = self.env.now
        self.firms -= 1
        self._removed[sector.index] += capital_at(size, op, self.inv.ramp_up_months, int(now),
                                                  self.keep, stop=now)
        if self.log is not None:
            self.log.add(now, "project", k, "exit", sector.name, size, None, None)

    # --- month end ----------------------------------------------------------------------------
    def step(self, month: int) -> None:
        """Close the month's flows; depreciate, add ramp-up, remove exits' capital."""
        self.disbursing_usd_m = self.disbursement.close()
        self.disbursed_total_usd_m += self.disbursing_usd_m
        flows = self.month_flows
        self.started_usd_m = self.started_rate_usd_m
        self.started_rate_usd_m = 0.0
        keep = self.keep
        for i, ramp in enumerate(self.ramp):
            added = ramp.close()
            self.added_usd_m[i] = added
            k = self.capital[i] * keep + added - self._removed[i]
            self.capital[i] = k if k > 1e-9 else 0.0
            self._removed[i] = 0.0
        self.last = {"committed_usd_m": flows["committed_usd_m"],
                     "committed_pollution_weighted_usd_m":
                         flows["committed_pollution_weighted_usd_m"],
                     "realised_usd_m": flows["realised_usd_m"],
                     "abandoned_usd_m": flows["abandoned_usd_m"]}
        for key in flows:
            flows[key] = 0.0

    def waiting_for_land(self) -> int:
        """Realised projects not yet started (in their lead time or waiting for land)."""
        return self.not_started

    def operating_usd_m(self) -> float:
        """Capital operating at the last month end, all sectors (depreciated, net of exits)."""
        return sum(self.capital)

    def pipeline_usd_m(self) -> float:
        """Realised money not yet disbursed at the last month end."""
        return self.not_started_usd_m + self.booked_usd_m - self.disbursed_total_usd_m

    def indicators(self, month: int) -> dict[str, float]:
        """The month's money, the pipeline, firms, next month's pull."""
        return {"investment_usd_m": self.disbursing_usd_m, **self.last,
                "pipeline_usd_m": self.pipeline_usd_m(),
                "firms_operating": float(self.firms),
                "attractiveness": self.attractiveness(month + 1)}
