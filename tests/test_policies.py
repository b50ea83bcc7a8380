"""Every policy scenario moves the indicators it should, in the direction it should.

Each policy file is run against the base with the same seeds (common random numbers); the
comparison is on the sum over replications of an indicator's annual value.
"""

from __future__ import annotations

import numpy as np
import pytest

from gzsim import load_scenario
from gzsim.model import simulate_one
from gzsim.model.invariants import InvariantError, check, violations
from tests.conftest import BASE, SCENARIOS

REPS = 3


def annual(sc, out: dict, name: str, year: int) -> float:
    """A year's value: the sum of a flow, the December level of a stock."""
    from gzsim.indicators import INDICATORS

    m0 = sc.time.month_index(year, 1)
    a = out[name][m0:m0 + 12]
    return float(a.sum() if INDICATORS[name].kind == "flow" else a[-1])


@pytest.fixture(scope="module")
def base_runs():
    sc = load_scenario(BASE)
    return sc, [simulate_one(sc, 11, k) for k in range(REPS)]


# (policy file, indicator, year, expected sign of policy - base)
EFFECTS = [
    ("policy_tax_incentives.yaml", "fiscal_cost_usd_m", 2020, +1),
    ("policy_tax_incentives.yaml", "committed_usd_m", 2022, +1),
    # other roads reach the road network plan's ceiling (~200,000 km) in the base, so the push's
    # extra money builds rail (never fewer km of any type: tests/test_network.py)
    ("policy_infrastructure_push.yaml", "rail_km", 2024, +1),
    ("policy_infrastructure_push.yaml", "jobs_infrastructure", 2020, +1),
    ("policy_infrastructure_push.yaml", "accessibility", 2024, +1),
    ("policy_infrastructure_push.yaml", "committed_usd_m", 2025, +1),
    ("policy_green_screening.yaml", "committed_usd_m", 2020, -1),
    ("policy_green_screening.yaml", "jobs_direct", 2025, -1),
    ("policy_big_data_focus.yaml", "jobs_direct", 2025, -1),
    ("policy_training.yaml", "workers_trained", 2020, +1),
    ("policy_training.yaml", "labour_force", 2020, +1),
    ("policy_investment_slowdown.yaml", "investment_usd_m", 2021, -1),
    ("policy_investment_slowdown.yaml", "jobs_construction", 2021, -1),
    # relocation is quota-driven and the base's housing budget does not bind: no effect there
    # (tests/test_directions.py shows the push where the budget binds)
    ("policy_housing_push.yaml", "people_resettled", 2017, 0),
    ("policy_housing_push.yaml", "poor_people", 2018, 0),
    ("policy_land_push.yaml", "serviced_land_km2", 2020, +1),
]


@pytest.fixture(scope="module")
def policy_runs():
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            sc = load_scenario(SCENARIOS / name)
            cache[name] = (sc, [simulate_one(sc, 11, k) for k in range(REPS)])
        return cache[name]

    return get


@pytest.mark.parametrize(("policy", "indicator", "year", "sign"), EFFECTS,
                         ids=[f"{p[7:-5]}-{i}" for p, i, _, _ in EFFECTS])
def test_lever_moves_indicator(base_runs, policy_runs, policy, indicator, year, sign):
    base_sc, base = base_runs
    sc, runs = policy_runs(policy)
    b = sum(annual(base_sc, o, indicator, year) for o in base)
    p = sum(annual(sc, o, indicator, year) for o in runs)
    assert np.sign(p - b) == sign, (b, p)


def test_policies_do_nothing_before_they_start(base_runs, policy_runs):
    base_sc, base = base_runs
    sc, runs = policy_runs("policy_training.yaml")
    before = sc.time.month_index(2018, 1)
    for a, b in zip(base, runs, strict=True):
        for name in a:
            np.testing.assert_array_equal(a[name][:before], b[name][:before], err_msg=name)


ALL_SCENARIOS = sorted(p.name for p in SCENARIOS.glob("*.yaml")  # assumptions.yaml: no scenario
                       if p.name != "assumptions.yaml") + ["regions/riverside.yaml"]


@pytest.mark.parametrize("name", ALL_SCENARIOS)
def test_invariants_hold_on_every_scenario(name):
    sc = load_scenario(SCENARIOS / name)
    for k in range(2):
        out = simulate_one(sc, 5, k)  # GZSIM_CHECK_INVARIANTS=1 checks them inside too
        assert violations(out, sc) == []


def test_invariant_check_catches_broken_books(base_runs):
    sc, runs = base_runs
    out = {k: v.copy() for k, v in runs[0].items()}
    out["employment"][100] = out["labour_force"][100] + 1
    out["investment_usd_m"][50] += 1.0  # money from nowhere
    out["highway_km"][120] = out["highway_km"][119] - 10
    with pytest.raises(InvariantError) as e:
        check(out, sc)
    msg = str(e.value)
    assert "money not conserved" in msg and "employment above" in msg
    assert "highway_km decreased" in msg


def test_second_region_runs_without_code_change(cli, tmp_path):
    res = cli("run", SCENARIOS / "regions" / "riverside.yaml", "-n", "2", "-o", tmp_path, "-q")
    assert res.returncode == 0, res.stderr
    import pandas as pd

    series = pd.read_parquet(tmp_path / "series.parquet")
    assert series["date"].min() == pd.Timestamp("2015-01-01")
    assert "households_waiting" not in series.columns  # no resettlement programme there
    assert series["employment"].iloc[-1] > 0 and series["serviced_land_km2"].iloc[-1] > 15
