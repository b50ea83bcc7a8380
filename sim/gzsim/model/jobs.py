"""Job creation and the labour pool.

Positions: direct jobs of operating firms (sector intensity x depreciated operating capital),
construction jobs while money is disbursed (the district's projects, plus the district's share of
the province's road and rail works), and indirect + induced jobs as multipliers on both (the
IMPLAN / RIMS II way), less what leaks out of the district (suppliers and shops elsewhere).
The labour pool fills vacancies with a lag (a binomial share of what can be filled each month,
drawn by inversion so more positions never mean fewer hires under common random numbers);
open vacancies draw migrants. Employment can never exceed the labour force.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gzsim.model.draws import binomial_inverse, poisson_inverse
from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class JobsProcess(Process):
    """The district's positions and the labour pool that fills them."""

    name = "jobs"
    section = None
    tick = 70
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
                  "new jobs filled that month (hires out of the labour pool)"),
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
        self.monthly_growth = (1 + sc.labour.natural_growth_rate_per_year) ** (1 / 12) - 1
        self._multiplier = self.local_multiplier()  # constant over a run
        self.shortages: list[float] = []  # vacancies / positions, one per month
        self.last = {"jobs_direct": 0.0, "jobs_construction": 0.0, "jobs_indirect": 0.0,
                     "jobs_created": 0.0}

    def add_workers(self, people: float) -> None:
        """Workers joining the district's pool (resettled households, trainees...)."""
        self.labour_force += people

    def local_multiplier(self) -> float:
        """Indirect + induced jobs per direct or construction job that stay in the district."""
        j = self.jobs
        return (j.indirect_jobs_per_direct_job * (1 - j.indirect_leakage_share)
                + j.induced_jobs_per_direct_job * (1 - j.induced_leakage_share))

    def positions(self, month: int) -> tuple[float, float, float]:
        """(direct, construction, indirect+induced) positions the economy offers this month."""
        direct = sum(j * k for j, k in zip(self.intensity, self.d.investment.capital,
                                           strict=True))
        construction = (self.jobs.construction_job_years_per_usd_m * 12
                        * self.d.investment.disbursing_usd_m)
        net = self.d.infrastructure
        if net is not None:
            construction += net.jobs_district(month)
        return direct, construction, self._multiplier * (direct + construction)

    def step(self, month: int) -> None:
        """Positions, layoffs, hires out of the pool, migration and natural growth."""
        direct, construction, indirect = self.positions(month)
        demand = math.floor(direct + construction + indirect)
        if self.employment > demand:
            self.employment = float(demand)  # firms shed jobs at once
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
        self.last = {"jobs_direct": direct, "jobs_construction": construction,
                     "jobs_indirect": indirect, "jobs_created": float(hires)}

    def shortage(self, months: int = 12) -> float:
        """Mean share of positions left unfilled over the last ``months`` months."""
        recent = self.shortages[-months:]
        return sum(recent) / len(recent) if recent else 0.0

    def employment_rate(self) -> float:
        """Employed / labour force (0 with no labour force)."""
        return self.employment / self.labour_force if self.labour_force > 0 else 0.0

    def indicators(self, month: int) -> dict[str, float]:
        """Positions, hires, employment, vacancies and the pool this month."""
        return {**self.last, "employment": self.employment, "vacancies": self.vacancies,
                "labour_force": self.labour_force}
