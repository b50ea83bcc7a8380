"""Job creation and the labour pool.

Positions: direct jobs of operating firms (sector intensity x operating capital), construction
jobs while money is disbursed, and indirect + induced jobs as multipliers on both (the IMPLAN /
RIMS II way). The labour pool fills vacancies with a lag (a binomial share of what can be filled
each month); open vacancies draw migrants. Employment can never exceed the labour force.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class JobsProcess(Process):
    name = "jobs"
    section = None
    tick = 70
    INDICATORS = (
        Indicator("jobs_direct", "jobs", "district", "stock",
                  "direct positions offered by operating firms (sector intensity x operating "
                  "capital)"),
        Indicator("jobs_construction", "jobs", "district", "stock",
                  "temporary construction positions supported by this month's disbursement"),
        Indicator("jobs_indirect", "jobs", "district", "stock",
                  "indirect (supplier) and induced (household spending) positions, by multipliers"),
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
        self.intensity = {n: s.direct_jobs_per_usd_m for n, s in sc.sectors.items()}
        self.rng = district.streams.get("jobs.labour_market")
        self.labour_force = float(sc.labour.initial_labour_force_people)
        self.employment = 0.0
        self.vacancies = 0.0
        self.monthly_growth = (1 + sc.labour.natural_growth_rate_per_year) ** (1 / 12) - 1
        self.shortages: list[float] = []  # vacancies / positions, one per month
        self.last = {"jobs_direct": 0.0, "jobs_construction": 0.0, "jobs_indirect": 0.0,
                     "jobs_created": 0.0}

    def add_workers(self, people: float) -> None:
        """Workers joining the district's pool (resettled households, trainees...)."""
        self.labour_force += people

    def positions(self, month: int) -> tuple[float, float, float]:
        """(direct, construction, indirect+induced) positions the economy offers this month."""
        led = self.d.ledger
        direct = sum(self.intensity[s] * led.get(f"operating_usd_m.{s}", month)
                     for s in self.intensity)
        construction = self.jobs.construction_job_years_per_usd_m * 12 * led.get(
            "investment_usd_m", month)
        mult = self.jobs.indirect_jobs_per_direct_job + self.jobs.induced_jobs_per_direct_job
        return direct, construction, mult * (direct + construction)

    def step(self, month: int) -> None:
        direct, construction, indirect = self.positions(month)
        demand = math.floor(direct + construction + indirect)
        if self.employment > demand:
            self.employment = float(demand)  # firms shed jobs at once
        fillable = int(max(0.0, min(demand - self.employment,
                                    self.labour_force - self.employment)))
        hires = int(self.rng.binomial(fillable, self.labour.vacancy_fill_share_per_month))
        self.employment += hires
        self.vacancies = demand - self.employment
        self.shortages.append(self.vacancies / demand if demand > 0 else 0.0)
        migrants = self.labour.migrants_per_vacancy_per_month * self.vacancies
        self.labour_force *= 1 + self.monthly_growth
        self.labour_force += float(self.rng.poisson(migrants)) if migrants > 0 else 0.0
        self.last = {"jobs_direct": direct, "jobs_construction": construction,
                     "jobs_indirect": indirect, "jobs_created": float(hires)}

    def shortage(self, months: int = 12) -> float:
        """Mean share of positions left unfilled over the last ``months`` months."""
        recent = self.shortages[-months:]
        return sum(recent) / len(recent) if recent else 0.0

    def employment_rate(self) -> float:
        return self.employment / self.labour_force if self.labour_force > 0 else 0.0

    def indicators(self, month: int) -> dict[str, float]:
        return {**self.last, "employment": self.employment, "vacancies": self.vacancies,
                "labour_force": self.labour_force}
