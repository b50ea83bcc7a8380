"""The process contract: a process is one module, its schema section and its YAML.

A toy tourism process (tests/plugins/toy_tourism.py), passed in Python, shows up in results,
comparisons and sweeps with no edit anywhere else; the order of the monthly work is the declared
process list; processes read only what they declare; a scenario never imports code; levers are
declared once.
"""

from __future__ import annotations

import numpy as np
import pytest

import gzsim
from gzsim.errors import ScenarioError
from gzsim.indicators import INDICATORS
from gzsim.model import District, ModelRun
from gzsim.model.processes import PROCESSES, registered
from tests.conftest import REPO
from tests.plugins.toy_tourism import TourismProcess

DATA = REPO / "tests" / "data"


def test_the_order_of_monthly_work_is_the_declared_list(base_scenario):
    names = [c.name for c in PROCESSES]
    assert names.index("investment") < names.index("jobs")  # jobs count this month's money
    assert names.index("resettlement") < names.index("poverty")  # relocated people, same month
    assert [c.name for c in registered()][:len(PROCESSES)] == names
    tourism = gzsim.load_scenario(DATA / "tourism.yaml")
    d = District(tourism, 1, 0, processes=[TourismProcess])
    assert [p.name for p in d] == [*names, "tourism"]  # outside processes run after the model's
    assert "tourism" not in [p.name for p in District(base_scenario, 1, 0, [TourismProcess])]


def test_processes_are_wired_only_as_they_declare(base_scenario):
    d = District(base_scenario, 1, 0)
    for p in d:
        for name in p.READS:
            assert getattr(p, name) is d.get(name)
    inv = d["investment"]
    assert inv.land is d["land"] and inv.jobs is d["jobs"]
    assert not hasattr(d, "jobs")  # the district is not a service locator
    with pytest.raises(KeyError):
        inv.connect("poverty", d["poverty"])  # investment does not declare it reads poverty


def test_district_builds_only_processes_the_scenario_has(base_scenario):
    riverside = gzsim.load_scenario(REPO / "scenarios" / "regions" / "riverside.yaml")
    d = District(riverside, 1, 0)
    assert d.get("resettlement") is None and d.get("poverty") is None
    assert d["jobs"] is not None
    assert d["jobs"].infrastructure is d.get("infrastructure")
    with pytest.raises(KeyError):
        _ = d["no_such_process"]


def test_a_scenario_never_imports_code(tmp_path):
    f = tmp_path / "plugged.yaml"
    f.write_text(f"extends: {DATA / 'tourism.yaml'}\nname: plugged\n"
                 "plugins: [tests.plugins.toy_tourism]\n")
    with pytest.raises(ScenarioError) as e:
        gzsim.load_scenario(f)
    msg = str(e.value)
    assert "plugins" in msg and "processes=[" in msg and "plugged.yaml" in msg


def test_every_recorded_indicator_is_declared(base_scenario):
    arrays = District(base_scenario, 1, 0).run()
    assert set(arrays) == set(INDICATORS) - {"tourist_arrivals"}


def test_toy_process_appears_in_results_and_indicators():
    sc = gzsim.load_scenario(DATA / "tourism.yaml")
    assert sc.tourism.visitors_per_month == 50000
    assert "tourist_arrivals" in INDICATORS
    assert INDICATORS["tourist_arrivals"].kind == "flow"
    res = gzsim.simulate(sc, replications=2, seed=3, processes=[TourismProcess])
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
    comp = compare(a, [b], replications=3, seed=11, processes=[TourismProcess])
    rows = comp.table[comp.table["indicator"] == "tourist_arrivals"]
    assert len(rows) > 0
    later = rows[rows["year"] >= 2020]
    assert (later["diff_mean"] > 0).all()  # more roads, more accessibility, more visitors


def test_toy_process_in_a_sweep_with_worker_processes(tmp_path):
    from gzsim.experiments import read_sweep, run_sweep

    run_sweep(DATA / "tourism_sweep.yaml", tmp_path / "sw", workers=2,
              run_fn=ModelRun(processes=(TourismProcess,)))
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
        assert decl.acts_on in {c.name for c in PROCESSES}


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
