"""Poverty (province scale): poor people leave poverty at a hazard that rises with employment.

Three stocks of poor people: not relocated, relocated without a job in the household, relocated
with one. Relocation moves people from the first stock to the second (programmes relocate the
poor); relocated households find work at ``job_finding_rate_per_year`` scaled by the district's
employment rate; the poor leave poverty each month with probability ``1 - exp(-h/12)``, where
``h`` is ``exit_rate_employed_per_year`` for households with a job and
``exit_rate_per_year * (1 + exit_rate_employment_gain * e)`` otherwise, ``e`` the district's
employment rate (the one labour market the model has, standing in for the province's).
Draws are binomial on people (households in batches, never one process per person).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gzsim.model.process import Indicator, Process, register

if TYPE_CHECKING:
    from gzsim.model.district import District


def monthly_probability(rate_per_year: float) -> float:
    return 1.0 - math.exp(-rate_per_year / 12.0)


@register
class PovertyProcess(Process):
    name = "poverty"
    section = "poverty"
    tick = 50
    INDICATORS = (
        Indicator("poor_people", "people", "province", "stock",
                  "people below the poverty line"),
        Indicator("people_left_poverty", "people", "province", "stock",
                  "people who left poverty since the start (cumulative)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        cfg = district.scenario.poverty
        assert cfg is not None
        self.cfg = cfg
        self.rng = district.streams.get("poverty.exits")
        self.initial_poor = int(round(cfg.initial_poor_people))
        self.poor_other = self.initial_poor
        self.poor_relocated = 0  # relocated, no job in the household yet
        self.poor_relocated_job = 0
        self.left_poverty = 0
        self.left_this_month = 0

    def relocated(self, people: int) -> None:
        """People moved into new homes; the poor among them change stock."""
        moved = min(int(people), self.poor_other)
        self.poor_other -= moved
        self.poor_relocated += moved

    def step(self, month: int) -> None:
        cfg, rng = self.cfg, self.rng
        e = self.d.employment_rate()
        find = monthly_probability(cfg.job_finding_rate_per_year * e)
        found = int(rng.binomial(self.poor_relocated, find))
        self.poor_relocated -= found
        self.poor_relocated_job += found
        p_exit = monthly_probability(cfg.exit_rate_per_year
                                     * (1 + cfg.exit_rate_employment_gain * e))
        p_exit_job = monthly_probability(cfg.exit_rate_employed_per_year)
        exits = [int(rng.binomial(self.poor_other, p_exit)),
                 int(rng.binomial(self.poor_relocated, p_exit)),
                 int(rng.binomial(self.poor_relocated_job, p_exit_job))]
        self.poor_other -= exits[0]
        self.poor_relocated -= exits[1]
        self.poor_relocated_job -= exits[2]
        self.left_this_month = sum(exits)
        self.left_poverty += self.left_this_month

    def poor_people(self) -> int:
        return self.poor_other + self.poor_relocated + self.poor_relocated_job

    def indicators(self, month: int) -> dict[str, float]:
        return {"poor_people": float(self.poor_people()),
                "people_left_poverty": float(self.left_poverty)}
