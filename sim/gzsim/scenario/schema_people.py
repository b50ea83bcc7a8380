"""Scenario sections about people: resettlement, poverty and training.

Resettlement and poverty are modelled at the province scale (the sources' figures are
Guizhou-wide); ``district_share_of_workers`` is the explicit link to the district's labour pool.
Both programmes are run by quotas (people per year for a period), as the provincial programmes
were; money (the housing budget) limits relocation only where it is short of the quota.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from gzsim.scenario.schema_network import Budget
from gzsim.scenario.types import Frozen, NonNeg, Positive, Rate, Share, parse_year_month


def _ym(v: str | None) -> str | None:
    if v is not None:
        parse_year_month(v)
    return v


class Quota(Frozen):
    """People per year a programme is tasked with, from ``start`` to ``end`` (inclusive)."""

    start: str
    end: str | None = None  # None: until the scenario ends
    people_per_year: NonNeg  # as published (the plan's figure)
    # share of such plans carried out (the previous period's record; a prior): the tasks are
    # people_per_year x achievement
    achievement: Positive = 1.0
    # poverty only: the quota is a target for the net fall of the poor (as official "reduce
    # the poor by" plans are), so growth exits count toward it and re-entrants must be lifted
    # again; otherwise it is the programme's own gross exits
    net: bool = False

    @field_validator("start", "end")
    @classmethod
    def _months(cls, v: str | None) -> str | None:
        return _ym(v)

    @model_validator(mode="after")
    def _order(self) -> Quota:
        if self.end is not None and parse_year_month(self.end) < parse_year_month(self.start):
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Resettlement(Frozen):
    """Quota-driven relocation of households from poor mountain areas into new homes."""

    households_to_relocate: NonNeg  # programme size (stock waiting at the scenario's start)
    people_per_household: Positive
    workers_per_household: NonNeg
    quotas: dict[str, Quota]  # relocation tasks (people/yr) by period; cumulative, carried over
    housing_budget: Budget
    cost_usd_m_per_home: Positive  # one home per household
    build_months: Annotated[int, Field(ge=1, le=120)] = 12
    homes_per_start: Annotated[int, Field(ge=1)] = 1000  # homes started together (one package)
    batch_households: Annotated[int, Field(ge=1)] = 1000  # households moving together
    district_share_of_workers: Share = 0.0  # relocated workers who join the district's pool


class Programme(Frozen):
    """The targeted poverty-alleviation programme: exit quotas and a goal date."""

    quotas: dict[str, Quota] = Field(default_factory=dict)  # exits tasked (people/yr)
    # from goal_from, the monthly quota is at least (poor left) / (months left to goal_by)
    goal_by: str | None = None
    goal_from: str | None = None
    delivery_cv: Annotated[float, Field(ge=0, le=2)] = 0.0  # annual lognormal delivery shock

    @field_validator("goal_by", "goal_from")
    @classmethod
    def _months(cls, v: str | None) -> str | None:
        return _ym(v)

    @model_validator(mode="after")
    def _goal(self) -> Programme:
        if (self.goal_by is None) != (self.goal_from is None):
            raise ValueError("goal_by and goal_from go together (set both or neither)")
        if self.goal_by is not None and self.goal_from is not None and \
                parse_year_month(self.goal_by) < parse_year_month(self.goal_from):
            raise ValueError(f"goal_by ({self.goal_by}) is before goal_from ({self.goal_from})")
        return self


class Poverty(Frozen):
    """Province poverty: exits from the programme, growth and relocation; re-entry."""

    initial_poor_people: NonNeg  # province, on the scenario's start date
    initial_stock_as_of: str  # month-end of that stock: must be the month before time.start
    growth_elasticity: NonNeg = 0.0  # exit hazard per year per unit of real GDP growth
    real_growth_by_year: dict[int, Rate] = Field(default_factory=dict)  # province real growth
    real_growth_after: Rate = 0.0  # after the last listed year
    real_growth_sd: Annotated[float, Field(ge=0, le=0.5)] = 0.0  # annual shock after the list
    programme: Programme = Field(default_factory=Programme)
    reentry_rate_per_year: NonNeg = 0.0  # hazard of falling back, for those who left
    poor_share_of_relocated: Share = 1.0  # relocated people who were poor
    relocated_job_finding_rate_per_year: NonNeg = 0.0  # relocated poor households finding work
    exit_rate_employed_per_year: NonNeg = 0.0  # hazard once someone in the household has a job

    @field_validator("initial_stock_as_of")
    @classmethod
    def _month(cls, v: str) -> str:
        return str(_ym(v))


class Training(Frozen):
    """Training places (e.g. a technical college) turning residents into skilled workers."""

    places_per_year: NonNeg = 0.0  # base programme; policies add places
    course_months: Annotated[int, Field(ge=1, le=72)] = 12
    completion_share: Share = 0.9
    new_worker_share: Share = 1.0  # graduates who were not in the labour force before
