"""Scenario sections about people: resettlement, poverty and training.

Resettlement and poverty are modelled at the province scale (the sources' figures are
Guizhou-wide); ``district_share_of_workers`` is the explicit link to the district's labour pool.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gzsim.scenario.schema_network import Budget
from gzsim.scenario.types import Frozen, NonNeg, Positive, Share


class Resettlement(Frozen):
    """Relocation of households from poor mountain areas into newly built homes."""

    households_to_relocate: NonNeg  # stock waiting at the scenario's start
    people_per_household: Positive
    workers_per_household: NonNeg
    housing_budget: Budget
    cost_usd_m_per_home: Positive  # one home per household
    build_months: Annotated[int, Field(ge=1, le=120)] = 12
    homes_per_start: Annotated[int, Field(ge=1)] = 1000  # homes started together (one process)
    batch_households: Annotated[int, Field(ge=1)] = 1000  # households moving together
    district_share_of_workers: Share = 0.0  # relocated workers who join the district's pool


class Poverty(Frozen):
    """Poor people and the hazard of leaving poverty, higher for households with a job."""

    initial_poor_people: NonNeg  # province, at the scenario's start
    exit_rate_per_year: NonNeg  # hazard for households without a job, at zero employment
    # the hazard rises with employment: x (1 + gain x district employment rate)
    exit_rate_employment_gain: NonNeg = 0.0
    exit_rate_employed_per_year: NonNeg  # hazard once someone in the household has a job
    job_finding_rate_per_year: NonNeg  # for relocated households, scaled by district employment


class Training(Frozen):
    """Training places (e.g. a technical college) turning residents into skilled workers."""

    places_per_year: NonNeg = 0.0  # base programme; policies add places
    course_months: Annotated[int, Field(ge=1, le=72)] = 12
    completion_share: Share = 0.9
    new_worker_share: Share = 1.0  # graduates who were not in the labour force before
