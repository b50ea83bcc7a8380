"""Resettlement, poverty and training, each against what its parameters imply."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gzsim.model import simulate_one
from tests.conftest import variant


def test_relocation_is_limited_by_homes_built(base_scenario):
    cfg = base_scenario.resettlement
    sc = variant(base_scenario, {"resettlement.housing_budget.growth_rate_per_year": 0.0})
    out = simulate_one(sc, 1, 0)
    t = sc.time
    start = t.month_index(2015, 1)
    per_month_homes = cfg.housing_budget.usd_m_per_year / 12 / cfg.cost_usd_m_per_home
    for m in (t.month_index(2016, 6), t.month_index(2017, 12)):
        # a package funded at the end of month f is ready, and moved into, in month f+build+1
        funded_months = m - cfg.build_months - start
        packages = math.floor(per_month_homes * funded_months / cfg.homes_per_start + 1e-9)
        homes = min(packages * cfg.homes_per_start, round(cfg.households_to_relocate))
        moved = homes - homes % cfg.batch_households if homes < cfg.households_to_relocate \
            else homes
        assert out["people_resettled"][m] == pytest.approx(moved * cfg.people_per_household)
    # before the first homes are ready nobody moves
    first_ready = start + cfg.build_months
    assert out["people_resettled"][first_ready - 1] == 0
    assert out["households_waiting"][first_ready - 1] == cfg.households_to_relocate


def test_no_housing_budget_no_relocation(base_scenario):
    sc = variant(base_scenario, {"resettlement.housing_budget.usd_m_per_year": 0.0})
    out = simulate_one(sc, 1, 0)
    assert out["people_resettled"].max() == 0
    assert np.all(out["households_waiting"] == sc.resettlement.households_to_relocate)


def test_relocated_workers_join_the_district_labour_pool(base_scenario):
    closed = variant(base_scenario, {"labour.migrants_per_vacancy_per_month": 0.0})
    none = variant(closed, {"resettlement.district_share_of_workers": 0.0})
    a, b = simulate_one(closed, 4, 0), simulate_one(none, 4, 0)
    cfg = base_scenario.resettlement
    end = base_scenario.time.n_months - 1
    joined = (a["people_resettled"][end] / cfg.people_per_household
              * cfg.workers_per_household * cfg.district_share_of_workers)
    # without migration, the pools differ by the workers who joined (grown at the natural rate)
    gap = a["labour_force"][end] - b["labour_force"][end]
    assert joined > 0 and joined <= gap <= 1.2 * joined


def test_poverty_exit_follows_its_hazard(base_scenario):
    """Without relocation the poor leave at exit_rate_per_year: P(t) = P0 exp(-h t)."""
    sc = variant(base_scenario, {"resettlement": None, "poverty.exit_rate_employment_gain": 0.0})
    p0 = sc.poverty.initial_poor_people
    h = sc.poverty.exit_rate_per_year
    out = simulate_one(sc, 1, 0)
    for years in (1, 5):
        expected = p0 * math.exp(-h * years)
        sd = math.sqrt(p0 * math.exp(-h * years) * (1 - math.exp(-h * years)))
        assert abs(out["poor_people"][12 * years - 1] - expected) < 5 * sd


def test_jobs_make_poverty_exit_faster(base_scenario):
    slow = variant(base_scenario, {"poverty.job_finding_rate_per_year": 0.0})
    fast = variant(base_scenario, {"poverty.job_finding_rate_per_year": 3.0})
    m = base_scenario.time.month_index(2018, 12)
    a, b = simulate_one(slow, 2, 0), simulate_one(fast, 2, 0)
    assert b["people_left_poverty"][m] > a["people_left_poverty"][m] + 10_000


def test_training_places_add_workers_after_the_course(base_scenario):
    sc = variant(base_scenario, {"training.places_per_year": 1200.0,
                                 "training.completion_share": 1.0})
    out = simulate_one(sc, 1, 0)
    course = sc.training.course_months
    assert out["workers_trained"][course - 1] == 0
    # 100 start every month; each month's cohort graduates course_months later
    assert out["workers_trained"][course + 11] == 100 * 12
