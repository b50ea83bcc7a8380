"""The process contract: a process is one module, its schema section and its YAML.

A toy tourism process (tests/plugins/toy_tourism.py) shows up in results, comparisons and sweeps
with no edit anywhere else; tick order is data; levers are declared once.
"""

from __future__ import annotations

import numpy as np
import pytest

import gzsim
from gzsim.errors import ScenarioError
from gzsim.indicators import INDICATORS
from gzsim.model import District
from gzsim.model.process import registered
from tests.conftest import REPO

DATA = REPO / "tests" / "data"


def test_tick_order_is_declared_data():
    ticks = [c.tick for c in registered()]
    assert ticks == sorted(ticks)
    names = [c.name for c in registered()]
    assert names.index("investment") < names.index("jobs")  # jobs count this month's money


def test_district_builds_only_processes_the_scenario_has(base_scenario):
    riverside = gzsim.load_scenario(REPO / "scenarios" / "regions" / "riverside.yaml")
    d = District(riverside, 1, 0)
    assert d.resettlement is None and d.poverty is None
    assert d.jobs is not None
    with pytest.raises(AttributeError):
        _ = d.no_such_process


def test_every_recorded_indicator_is_declared(base_scenario):
    arrays = District(base_scenario, 1, 0).run()
    assert set(arrays) == set(INDICATORS) - {"tourist_arrivals"}


def test_toy_process_appears_in_results_and_indicators():
    sc = gzsim.load_scenario(DATA / "tourism.yaml")
    assert sc.tourism.visitors_per_month == 50000
    assert "tourist_arrivals" in INDICATORS
    assert INDICATORS["tourist_arrivals"].kind == "flow"
    res = gzsim.simulate(sc, replications=2, seed=3)
    arrivals = res.series["tourist_arrivals"].to_numpy()
    assert arrivals.min() > 0
    # accessibility grows as roads are built, so visitors do too
    first, last = arrivals[:12].mean(), arrivals[-12:].mean()
    assert last > first
    assert "tourist_arrivals" in set(res.to_xarray().data_vars)


def test_toy_process_section_errors_are_located():
    with pytest.raises(ScenarioError) as e:
        gzsim.load_scenario(DATA / "tourism.yaml", overrides={"tourism.visitors_per_month": -1})
    assert "tourism.visitors_per_month" in str(e.value)
    with pytest.raises(ScenarioError) as e:
        gzsim.load_scenario(DATA / "tourism.yaml", overrides={"tourism.visitorz": 1})
    assert "tourism.visitorz" in str(e.value)


def test_toy_process_in_compare():
    from gzsim.analysis.compare import compare

    a = gzsim.load_scenario(DATA / "tourism.yaml")
    b = gzsim.load_scenario(DATA / "tourism_push.yaml")
    comp = compare(a, [b], replications=3, seed=11)
    rows = comp.table[comp.table["indicator"] == "tourist_arrivals"]
    assert len(rows) > 0
    later = rows[rows["year"] >= 2020]
    assert (later["diff_mean"] > 0).all()  # more roads, more accessibility, more visitors


def test_toy_process_in_a_sweep_with_worker_processes(tmp_path):
    from gzsim.experiments import read_sweep, run_sweep

    run_sweep(DATA / "tourism_sweep.yaml", tmp_path / "sw", workers=2)
    sw = read_sweep(tmp_path / "sw")
    assert (sw.runs["status"] == "ok").all()
    assert "tourist_arrivals" in sw.series.columns
    low, high = sw.scalars.sort_values("tourism.access_elasticity")["tourists_2020"]
    assert high > low


def test_levers_are_declared_once():
    from gzsim.model.policies import LEVERS, ActiveLevers
    from gzsim.scenario.schema import Levers

    assert set(LEVERS) == set(Levers.model_fields)
    neutral = ActiveLevers()
    for name, decl in LEVERS.items():
        value = getattr(neutral, name)
        assert value == ({} if decl.combine == "multiply_each" else decl.neutral)
        assert decl.acts_on in {c.name for c in registered()}


def test_overlapping_policies_combine_as_declared(base_scenario):
    from gzsim.model.policies import combine
    from tests.conftest import variant

    two = [{"name": "a", "start": "2015-01",
            "levers": {"infrastructure_budget_multiplier": 2.0, "tax_incentive_share": 0.2,
                       "max_pollution_class": 3, "sector_weight_multipliers": {"big_data": 2}}},
           {"name": "b", "start": "2016-01",
            "levers": {"infrastructure_budget_multiplier": 1.5, "tax_incentive_share": 0.3,
                       "max_pollution_class": 1, "sector_weight_multipliers": {"big_data": 3}}}]
    sc = variant(base_scenario, {"policies": two})
    lv = combine(sc, sc.time.month_index(2017, 1))
    assert lv.infrastructure_budget_multiplier == 3.0  # multiply
    assert np.isclose(lv.tax_incentive_share, 0.5)  # add
    assert lv.max_pollution_class == 1  # strictest
    assert lv.sector_weight_multipliers == {"big_data": 6}  # multiply key by key
    assert lv.active == ("a", "b")
