"""Resettlement, poverty and training, each against what its parameters imply."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gzsim import load_scenario
from gzsim.errors import ScenarioError
from gzsim.model import simulate_one
from tests.conftest import BASE, variant

SHORT = {"time.end": "2020-12"}
# poverty alone: no growth exits, no re-entry, no programme, no relocation
BARE = {**SHORT, "resettlement": None, "poverty.growth_elasticity": 0.0,
        "poverty.reentry_rate_per_year": 0.0, "poverty.programme": {}}


def bare(base, changes: dict):
    return variant(variant(base, BARE), changes)


def year_change(sc, out, name: str, year: int) -> float:
    m1 = sc.time.month_index(year, 12)
    m0 = sc.time.month_index(year, 1) - 1
    return float(out[name][m1] - (out[name][m0] if m0 >= 0 else 0.0))


# --- resettlement --------------------------------------------------------------------------
def test_relocation_follows_the_quota_when_homes_do_not_bind(base_scenario):
    """Budget well above the quota's need: people moved by the end of a month = the quota due."""
    sc = variant(base_scenario, {**SHORT, "resettlement.housing_budget.usd_m_per_year": 20000.0,
                                 "resettlement.housing_budget.start": "2012-01"})
    cfg = sc.resettlement
    q = cfg.quotas["plan_2016_2020"]
    out = simulate_one(sc, 1, 0)
    assert out["people_resettled"][sc.time.month_index(2015, 12)] == 0  # no quota before 2016
    per_month_hh = q.people_per_year * q.achievement / 12 / cfg.people_per_household
    for y, m in ((2016, 6), (2017, 12), (2019, 3)):
        k = sc.time.month_index(y, m) - sc.time.month_index(2016, 1) + 1
        due = math.floor(per_month_hh * k + 1e-9)
        moved = due - due % cfg.batch_households
        idx = sc.time.month_index(y, m)
        assert out["people_resettled"][idx] == pytest.approx(moved * cfg.people_per_household)
    total = min(round(cfg.households_to_relocate), math.floor(per_month_hh * 60 + 1e-9))
    if total < round(cfg.households_to_relocate):  # whole batches while others still wait
        total -= total % cfg.batch_households
    assert out["people_resettled"][-1] == pytest.approx(total * cfg.people_per_household)


def test_relocation_is_limited_by_homes_built_where_the_budget_binds(base_scenario):
    """Budget below the quota's need: relocation follows the homes the money pays for."""
    sc = variant(base_scenario, {**SHORT, "resettlement.housing_budget.usd_m_per_year": 1200.0})
    cfg = sc.resettlement
    out = simulate_one(sc, 1, 0)
    start = sc.time.month_index(2015, 1)
    per_month_homes = cfg.housing_budget.usd_m_per_year / 12 / cfg.cost_usd_m_per_home
    for y, m in ((2016, 12), (2018, 6), (2020, 12)):
        idx = sc.time.month_index(y, m)
        # homes started when month f opens are finished build_months later, in month
        # f+build, and moved into at that month's end
        funded = idx - cfg.build_months - start + 1
        homes = math.floor(per_month_homes * funded / cfg.homes_per_start + 1e-9) \
            * cfg.homes_per_start
        moved_hh = out["people_resettled"][idx] / cfg.people_per_household
        assert homes - cfg.batch_households < moved_hh <= homes
    quota_hh = cfg.quotas["plan_2016_2020"].people_per_year * 5 / cfg.people_per_household
    assert out["people_resettled"][-1] / cfg.people_per_household < 0.8 * quota_hh


def test_no_housing_budget_no_relocation(base_scenario):
    sc = variant(base_scenario, {**SHORT, "resettlement.housing_budget.usd_m_per_year": 0.0})
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


# --- poverty -------------------------------------------------------------------------------
def test_initial_poor_stock_is_the_one_on_the_start_date(base_scenario):
    out = simulate_one(variant(base_scenario, SHORT), 1, 0)
    p = base_scenario.poverty
    assert p.initial_stock_as_of == "2011-12" and base_scenario.time.start == "2012-01"
    # first month: the start stock minus that month's exits (nothing can have left before)
    first = out["poor_people"][0] + out["people_left_poverty"][0]
    assert first == pytest.approx(p.initial_poor_people)
    with pytest.raises(ScenarioError, match="initial_stock_as_of"):
        load_scenario(BASE, overrides=["time.start=2013-01"])


def test_with_exits_only_from_the_quota_the_poor_follow_it(base_scenario):
    sc = bare(base_scenario, {"poverty.programme.quotas": {
        "a": {"start": "2012-01", "end": "2013-12", "people_per_year": 600000},
        "b": {"start": "2014-01", "people_per_year": 240000}}})
    out = simulate_one(sc, 1, 0)
    p0 = sc.poverty.initial_poor_people
    for months, expected in ((12, 600000), (24, 1200000), (36, 1440000), (60, 1920000)):
        assert out["poor_people"][months - 1] == pytest.approx(p0 - expected, abs=1e-3)
    assert out["poverty_programme_exits"][59] == pytest.approx(1920000, abs=1e-3)


def test_the_goal_brings_the_poor_evenly_to_zero(base_scenario):
    sc = bare(base_scenario, {"poverty.programme": {"goal_from": "2016-01",
                                                    "goal_by": "2020-12"}})
    out = simulate_one(sc, 1, 0)
    p0 = sc.poverty.initial_poor_people
    g0 = sc.time.month_index(2016, 1)
    assert out["poor_people"][g0 - 1] == pytest.approx(p0)
    for k in (1, 12, 30, 59):  # k months into the 60-month goal
        assert out["poor_people"][g0 + k - 1] == pytest.approx(p0 * (60 - k) / 60)
    assert out["poor_people"][sc.time.month_index(2020, 12)] == pytest.approx(0, abs=1e-6)


def test_growth_exits_follow_the_growth_elasticity(base_scenario):
    sc = bare(base_scenario, {"poverty.growth_elasticity": 1.5})
    out = simulate_one(sc, 1, 0)
    p0 = sc.poverty.initial_poor_people
    g = sc.poverty.real_growth_by_year
    expected = p0 * math.exp(-1.5 * (g[2012] + g[2013] + g[2014]))
    assert out["poor_people"][35] == pytest.approx(expected, rel=1e-9)


def test_reentry_follows_its_rate(base_scenario):
    """A one-year quota makes X people leave; afterwards X(t) = X exp(-r t) fall back."""
    r = 0.1
    sc = bare(base_scenario, {"poverty.reentry_rate_per_year": r, "poverty.programme.quotas": {
        "a": {"start": "2012-01", "end": "2012-12", "people_per_year": 1200000}}})
    out = simulate_one(sc, 1, 0)
    x12 = out["people_left_poverty"][11] - out["people_reentered_poverty"][11]
    for years in (1, 4):
        m = 11 + 12 * years
        back = out["people_reentered_poverty"][m] - out["people_reentered_poverty"][11]
        assert back == pytest.approx(x12 * (1 - math.exp(-r * years)), rel=1e-9)
    # in the first year the inflow is r x (those out so far), month by month
    assert 0 < out["people_reentered_poverty"][11] < r * 1200000 * 0.5 + 1e-6


def test_programme_delivery_shocks_average_to_the_quota(base_scenario):
    cv, quota = 0.2, 500000
    sc = bare(base_scenario, {"time.end": "2013-12", "poverty.programme": {
        "delivery_cv": cv, "quotas": {"a": {"start": "2012-01", "people_per_year": quota}}}})
    exits = np.array([[year_change(sc, o, "poverty_programme_exits", y) for y in (2012, 2013)]
                      for o in (simulate_one(sc, 9, k) for k in range(30))]).ravel()
    sd = quota * cv
    assert abs(exits.mean() - quota) < 4 * sd / math.sqrt(len(exits))
    assert 0.5 * sd < exits.std(ddof=1) < 1.6 * sd


def test_growth_shocks_only_after_the_listed_years(base_scenario):
    sc = bare(base_scenario, {"poverty.growth_elasticity": 1.0,
                              "poverty.real_growth_sd": 0.02})
    a, b = simulate_one(sc, 1, 0), simulate_one(sc, 1, 1)
    last_listed = sc.time.month_index(2015, 12)
    np.testing.assert_array_equal(a["poor_people"][:last_listed + 1],
                                  b["poor_people"][:last_listed + 1])
    assert a["poor_people"][-1] != b["poor_people"][-1]


def test_relocation_with_jobs_speeds_exits(base_scenario):
    """Relocated poor households that find work leave faster; without the goal this shows."""
    no_goal = variant(base_scenario, {**SHORT, "poverty.programme.goal_from": None,
                                      "poverty.programme.goal_by": None})
    slow = variant(no_goal, {"poverty.relocated_job_finding_rate_per_year": 0.0})
    a, b = simulate_one(slow, 2, 0), simulate_one(no_goal, 2, 0)
    m = base_scenario.time.month_index(2018, 12)
    assert b["people_left_poverty"][m] > a["people_left_poverty"][m] + 10_000
    assert np.all(b["poor_people"] <= a["poor_people"] + 1e-6)


def test_poverty_does_not_depend_on_the_district_labour_market(base_scenario):
    """Province poverty has province drivers: district jobs and trainees leave it unchanged."""
    sc = variant(base_scenario, SHORT)
    other_labour = variant(sc, {"labour.initial_labour_force_people": 5000.0,
                               "training.places_per_year": 20000.0})
    a, b = simulate_one(sc, 3, 0), simulate_one(other_labour, 3, 0)
    assert not np.array_equal(a["labour_force"], b["labour_force"])
    np.testing.assert_array_equal(a["poor_people"], b["poor_people"])


# --- training ------------------------------------------------------------------------------
def test_training_places_add_workers_after_the_course(base_scenario):
    sc = variant(base_scenario, {"training.places_per_year": 1200.0,
                                 "training.completion_share": 1.0})
    out = simulate_one(sc, 1, 0)
    course = sc.training.course_months
    assert out["workers_trained"][course - 1] == 0
    # 100 start every month; each month's cohort graduates course_months later
    assert out["workers_trained"][course + 11] == 100 * 12
