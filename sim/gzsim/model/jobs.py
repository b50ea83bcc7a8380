"""Job creation and the labour pool.

Positions: direct jobs of operating firms (sector intensity x depreciated operating capital),
construction jobs while money is disbursed (the district's projects, plus the district's share of
the province's road and rail works), and indirect + induced jobs as multipliers on both (the
IMPLAN / RIMS II way), less what leaks out of the district (suppliers and shops elsewhere).
Positions are created and destroyed unit by unit, not only on net (gross job flows, as Davis and
Haltiwanger measure them): a project that starts construction opens its sites' positions, one that
finishes closes them, a firm ramping up adds positions, depreciation and exits remove them. So a
year in which as many sites close as open still creates jobs, and their workers must be hired
again. Destroyed positions are filled in the proportion of all positions (their workers return to
the pool); created ones are vacancies. The labour pool fills vacancies with a lag (a binomial
share of what can be filled each month, drawn by inversion so more positions never mean fewer
hires under common random numbers); open vacancies draw migrants. Employment can never exceed
the labour force. ``jobs_created`` counts the hires: new positions filled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from gzsim.model.draws import binomial_inverse, poisson_inverse
from gzsim.model.process import Indicator, Process

if TYPE_CHECKING:
    from gzsim.model.district import District


class Positions(NamedTuple):
    """Positions offered in a month (a stock) and those opened that month (a flow)."""

    direct: float  # operating firms: sector intensity x depreciated capital
    construction: float  # district sites plus the district's share of road and rail works
    indirect: float  # indirect + induced, net of leakage
    created: float  # opened this month, multiplier included
    works: float  # of construction: the district's share of road and rail works


class JobsProcess(Process):
    """The district's positions and the labour pool that fills them."""

    name = "jobs"
    section = None
    READS = ("investment", "infrastructure")
    STREAMS = ("jobs.labour_market",)
    INDICATORS = (
        Indicator("jobs_direct", "jobs", "district", "stock",
                  "direct positions offered by operating firms (sector intensity x depreciated "
                  "operating capital)"),
        Indicator("jobs_construction", "jobs", "district", "stock",
                  "temporary construction positions supported by this month's disbursement "
                  "(district projects plus the district's share of road and rail works)"),
        Indicator("jobs_indirect", "jobs", "district", "stock",
                  "indirect (supplier) and induced (household spending) positions in the "
                  "district, by multipliers net of leakage"),
        Indicator("jobs_created", "jobs/month", "district", "flow",
                  "new jobs filled that month (hires out of the labour pool into positions "
                  "opened by new sites, firms and their multipliers)"),
        Indicator("jobs_lost", "jobs/month", "district", "flow",
                  "filled positions closed that month (finished sites, depreciation, firm "
                  "exits): their workers return to the pool"),
        Indicator("employment", "people", "district", "stock",
                  "filled positions (never above the labour force)"),
        Indicator("vacancies", "jobs", "district", "stock",
                  "open positions not yet filled"),
        Indicator("labour_force", "people", "district", "stock",
                  "workers available to the district's employers: employed plus job seekers"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        sc = district.scenario
        self.jobs = sc.jobs
        self.labour = sc.labour
        self.intensity = [s.direct_jobs_per_usd_m for s in sc.sectors.values()]  # sector order
        self.draws = self.rng("jobs.labour_market")
        self.labour_force = float(sc.labour.initial_labour_force_people)
        self.employment = 0.0
        self.vacancies = 0.0
        self.positions_last = 0.0  # positions offered last month
        self.works_last = 0.0  # the district's road and rail positions last month
        self.monthly_growth = (1 + sc.labour.natural_growth_rate_per_year) ** (1 / 12) - 1
        self._multiplier = self.local_multiplier()  # constant over a run
        self.shortages: list[float] = []  # vacancies / positions, one per month
        self.last = {"jobs_direct": 0.0, "jobs_construction": 0.0, "jobs_indirect": 0.0,
                     "jobs_created": 0.0, "jobs_lost": 0.0}

    def add_workers(self, people: float) -> None:
        """Workers joining the district's pool (resettled households, trainees...)."""
        self.labour_force += people

    def local_multiplier(self) -> float:
        """Indirect + induced jobs per direct or construction job that stay in the district."""
        j = self.jobs
        return (j.indirect_jobs_per_direct_job * (1 - j.indirect_leakage_share)
                + j.induced_jobs_per_direct_job * (1 - j.induced_leakage_share))

    def positions(self, month: int) -> Positions:
        """The positions the economy offers this month, and those it opened this month."""
        inv = self.investment
        direct = sum(j * k for j, k in zip(self.intensity, inv.capital, strict=True))
        direct_new = sum(j * k for j, k in zip(self.intensity, inv.added_usd_m, strict=True))
        per_usd_m = self.jobs.construction_job_years_per_usd_m * 12
        construction = per_usd_m * inv.disbursing_usd_m
        construction_new = per_usd_m * inv.started_usd_m
        works = 0.0
        net = self.infrastructure
        if net is not None:  # the province's works: net change by month (no sites tracked)
            works = net.jobs_district(month)
            construction += works
            construction_new += max(0.0, works - self.works_last)
        return Positions(direct, construction, self._multiplier * (direct + construction),
                         (1 + self._multiplier) * (direct_new + construction_new), works)

    def step(self, month: int) -> None:
        """Positions opened and closed, layoffs, hires out of the pool, migration, growth."""
        p = self.positions(month)
        demand = math.floor(p.direct + p.construction + p.indirect)
        before, employed = self.positions_last, self.employment
        closed = max(0.0, p.created - (demand - before))  # closed = opened - net change
        if before > 0:  # closed positions were filled like the rest: their workers leave
            self.employment -= min(self.employment, closed * self.employment / before)
        self.employment = min(self.employment, float(demand))
        lost = employed - self.employment
        self.positions_last = float(demand)
        self.works_last = p.works
        fillable = int(max(0.0, min(demand - self.employment,
                                    self.labour_force - self.employment)))
        u_hire, u_migrants = self.draws.random(2).tolist()  # two uniforms a month, always
        hires = binomial_inverse(u_hire, fillable, self.labour.vacancy_fill_share_per_month)
        self.employment += hires
        self.vacancies = demand - self.employment
        self.shortages.append(self.vacancies / demand if demand > 0 else 0.0)
        migrants = self.labour.migrants_per_vacancy_per_month * self.vacancies
        self.labour_force *= 1 + self.monthly_growth
        self.labour_force += float(poisson_inverse(u_migrants, migrants))
        self.last = {"jobs_direct": p.direct, "jobs_construction": p.construction,
                     "jobs_indirect": p.indirect, "jobs_created": float(hires),
                     "jobs_lost": lost}

    def shortage(self, months: int = 12) -> float:
        """Mean share of positions left unfilled over the last ``months`` months."""
        recent = self.shortages[-months:]
        return sum(recent) / len(recent) if recent else 0.0

    def indicators(self, month: int) -> dict[str, float]:
        """Positions, hires, employment, vacancies and the pool this month."""
        return {**self.last, "employment": self.employment, "vacancies": self.vacancies,
                "labour_force": self.labour_force}
