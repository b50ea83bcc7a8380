"""Infrastructure and land, each against what its parameters imply."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gzsim.model import District, simulate_one
from tests.conftest import variant

ONLY_RURAL = {"infrastructure.segment_types.expressway.budget_share": 0.0,
              "infrastructure.segment_types.highway.budget_share": 0.0,
              "infrastructure.segment_types.rail.budget_share": 0.0,
              "infrastructure.segment_types.rural_road.budget_share": 1.0,
              "infrastructure.plans": [],
              "infrastructure.budget.growth_rate_per_year": 0.0,
              "infrastructure.budget.growth_half_life_years": None}


def rural_only(base, **more):
    return variant(base, {**ONLY_RURAL, **more})


def test_km_built_is_budget_over_cost_when_crews_are_plentiful(base_scenario):
    sc = rural_only(base_scenario, **{"infrastructure.crews": 100_000,
                                      "infrastructure.budget.usd_m_per_year": 1200.0})
    seg = sc.infrastructure.segment_types["rural_road"]
    out = simulate_one(sc, 1, 0)
    n, b = sc.time.n_months, seg.build_months
    per_month_usd_m = 1200.0 / 12
    # funded at the end of month f, a segment is finished and counted from month f + b + 1
    for m in (b + 12, n // 2, n - 1):
        funded_months = m - b  # months 0 .. m-b-1 have funded segments that are finished by m
        segments = math.floor(per_month_usd_m * funded_months
                              / (seg.segment_km * seg.cost_usd_m_per_km) + 1e-9)
        assert out["rural_road_km"][m] - seg.initial_km == pytest.approx(
            segments * seg.segment_km), m
    assert np.all(out["expressway_km"] == sc.infrastructure.segment_types["expressway"].initial_km)


def test_crews_limit_throughput(base_scenario):
    crews = 3
    sc = rural_only(base_scenario, **{"infrastructure.crews": crews,
                                      "infrastructure.budget.usd_m_per_year": 50_000.0})
    seg = sc.infrastructure.segment_types["rural_road"]
    out = simulate_one(sc, 1, 0)
    m = sc.time.n_months - 1
    # crews work back to back from the first month: finished rounds of b months each
    rounds = m // seg.build_months
    built = out["rural_road_km"][m] - seg.initial_km
    assert built == pytest.approx(crews * seg.segment_km * rounds)
    plentiful = simulate_one(variant(sc, {"infrastructure.crews": 100_000}), 1, 0)
    assert plentiful["rural_road_km"][m] - seg.initial_km > 10 * built


def test_plans_steer_the_budget_towards_their_target(base_scenario):
    no_plan = variant(base_scenario, {"infrastructure.plans": []})
    a = simulate_one(base_scenario, 2, 0)
    b = simulate_one(no_plan, 2, 0)
    y2024 = base_scenario.time.month_index(2024, 12)
    assert a["rail_km"][y2024] > b["rail_km"][y2024] + 1000
    assert a["expressway_km"][y2024] < b["expressway_km"][y2024]  # money moved away from it


def test_accessibility_rises_with_the_network(base_scenario):
    out = simulate_one(base_scenario, 1, 0)
    assert out["accessibility"][0] == pytest.approx(1.0)
    assert out["accessibility"][-1] > 1.05
    assert np.all(np.diff(out["accessibility"]) >= -1e-12)


def test_no_serviced_land_blocks_construction(base_scenario):
    sc = variant(base_scenario, {"land.initial_serviced_km2": 0.0,
                                 "land.budget.usd_m_per_year": 0.0})
    d = District(sc, 1, 0)
    out = d.run()
    assert out["committed_usd_m"].sum() > 0 and out["realised_usd_m"].sum() > 0
    assert out["investment_usd_m"].sum() == 0
    assert out["jobs_direct"].sum() == 0
    assert out["pipeline_usd_m"][-1] == pytest.approx(out["realised_usd_m"].sum())
    assert len(d.land.free.get_queue) > 0  # projects queue for land


def test_construction_starts_once_land_is_serviced(base_scenario):
    sc = variant(base_scenario, {"land.initial_serviced_km2": 0.0,
                                 "land.budget.start": "2016-01"})
    out = simulate_one(sc, 1, 0)
    first_land = int(np.argmax(out["serviced_land_km2"] > 0))
    first_money = int(np.argmax(out["investment_usd_m"] > 0))
    ready = sc.time.month_index(2016, 1) + sc.land.servicing_months
    assert first_land == ready
    assert first_money >= first_land
    assert out["investment_usd_m"][:first_land].sum() == 0


def test_serviced_land_grows_with_budget_up_to_the_serviceable_area(base_scenario):
    sc = variant(base_scenario, {"land.budget.usd_m_per_year": 1e6})
    out = simulate_one(sc, 1, 0)
    room = sc.region.area_km2 * sc.land.serviceable_share
    assert out["serviced_land_km2"][-1] == pytest.approx(room)
    flat = variant(base_scenario, {"land.budget.growth_rate_per_year": 0.0})
    out = simulate_one(flat, 1, 0)
    # constant budget: km2 per month = budget / cost, usable after the servicing lag
    per_month = flat.land.budget.usd_m_per_year / 12 / flat.land.cost_usd_m_per_km2
    m = 100
    expected = flat.land.initial_serviced_km2 + per_month * (m - flat.land.servicing_months + 1)
    assert out["serviced_land_km2"][m] == pytest.approx(expected)
