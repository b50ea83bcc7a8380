"""Simulation-based calibration: it recovers known parameters, and the calibrated base fits."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import yaml

from gzsim import load_scenario, simulate
from gzsim.calibration.fit import calibrate
from gzsim.calibration.quantities import simulated_values
from gzsim.calibration.targets import load_targets
from gzsim.errors import TargetsError
from tests.conftest import BASE, REPO

CAL = REPO / "calibration"


def test_parameter_recovery(tmp_path):
    """Targets made by the model at known parameters are recovered from another start.

    The synthetic targets come from the same replications the objective uses (seed 5, 8
    replications), so the objective has an exact zero at the truth: this checks that the
    optimiser and the uncertainty it reports work, free of Monte Carlo noise in the targets.
    """
    truth = {"investment.arrival_rate_per_month": 6.0,
             "resettlement.quotas.plan_2016_2020.people_per_year": 300000.0}
    sc = load_scenario(BASE, overrides=[f"{k}={v}" for k, v in truth.items()])
    series = simulate(sc, replications=8, seed=5).series
    targets = yaml.safe_load((CAL / "targets.yaml").read_text())
    synthetic = {"gui_an_investment_2017": ("investment_usd_m", "annual_sum", 2017),
                 "guizhou_resettled_2016": ("people_resettled", "change", 2016)}
    for t in targets["targets"]:
        if t["id"] in synthetic:
            ind, agg, year = synthetic[t["id"]]
            t["value"] = float(np.mean(simulated_values(series, ind, agg, year)))
            t["tolerance"] = 0.02
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(targets, allow_unicode=True))
    spec = {"scenario": str(BASE), "targets": "targets.yaml", "seed": 5,
            "horizon_end": "2017-12", "use_targets": list(synthetic),
            "parameters": [
                {"path": "investment.arrival_rate_per_month", "bounds": [2.0, 12.0],
                 "start": 3.0},
                {"path": "resettlement.quotas.plan_2016_2020.people_per_year",
                 "bounds": [100000, 600000], "start": 450000}],
            "full": {"replications": 8, "max_evaluations": 60, "report_replications": 8}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    _, result = calibrate(tmp_path / "spec.yaml")
    p = result.parameters.set_index("path")
    for path, true in truth.items():
        est, se = p.loc[path, "value"], p.loc[path, "se"]
        assert np.isfinite(se) and se < 0.1 * true, (path, se)
        assert abs(est - true) <= 2 * se, (path, est, true, se)
        assert abs(est - true) / true < 0.08, (path, est, true)
    assert np.all(np.abs(result.residuals["scaled_residual"]) < 1.0)  # within tolerance


@pytest.fixture(scope="module")
def calibrated_base():
    # 200 replications: the mean's Monte Carlo error (about 1.3 %) sits well inside 5 %
    sc = load_scenario(BASE, overrides=["time.end=2017-12"])
    return sc, simulate(sc, replications=200, seed=3, workers=2).series


@pytest.mark.parametrize(("tid", "tolerance"), [
    ("gui_an_investment_2017", 0.05), ("gui_an_jobs_2017", 0.10),
    ("guizhou_resettled_2016", 0.10), ("guizhou_poverty_exit_2016", 0.10)])
def test_calibrated_base_reproduces_headline_targets(calibrated_base, tid, tolerance):
    """Seeds differ from the fit's: this checks the fit, not the fit's own noise."""
    _, series = calibrated_base
    t = load_targets(CAL / "targets.yaml").by_id[tid]
    sim = float(np.mean(simulated_values(series, t.maps_to.indicator, t.maps_to.aggregation,
                                         t.year, t.period)))
    assert abs(sim - t.value) / t.value <= tolerance, (tid, sim, t.value)


def test_calibrated_base_growth_2017(calibrated_base):
    _, series = calibrated_base
    inv = series.groupby([series["replication"], series["date"].dt.year])["investment_usd_m"]
    annual = inv.sum().groupby(level=1).mean()
    assert annual[2017] / annual[2016] - 1 == pytest.approx(0.11, abs=0.05)


def test_base_takes_fitted_values_by_reference():
    text = (REPO / "scenarios" / "base.yaml").read_text()
    assert "fitted_values: ../calibration/fitted.yaml" in text
    fitted = yaml.safe_load((CAL / "fitted.yaml").read_text())
    sc = load_scenario(BASE).model_dump()
    for path, value in fitted["values"].items():
        v = sc
        for part in path.split("."):
            v = v[part]
        assert v == pytest.approx(value), path
    assert fitted["seeds"]["root_seed"] is not None and "gzsim" in fitted["versions"]


def test_quick_calibration_from_the_cli(cli, tmp_path):
    t0 = time.perf_counter()
    res = cli("calibrate", CAL / "spec.yaml", "--quick", "--out", tmp_path,
              "--fitted", tmp_path / "fitted.yaml", "-w", "1")
    assert res.returncode == 0, res.stderr
    assert time.perf_counter() - t0 < 60
    table = pd.read_csv(tmp_path / "report.csv")
    assert {"id", "observed", "sim_median", "sim_p05", "sim_p95", "rel_error", "tolerance",
            "within_tolerance"} <= set(table.columns)
    assert "gui_an_investment_2017" in set(table["id"])
    report = (tmp_path / "report.md").read_text()
    for heading in ("## Fitted parameters", "## Growth rates fitted with scipy",
                    "## Identification", "## Assumptions"):
        assert heading in report
    fitted = yaml.safe_load((tmp_path / "fitted.yaml").read_text())
    assert "investment.arrival_rate_per_month" in fitted["values"]
    assert (tmp_path / "fit.png").exists() or "plots" not in res.stderr


def test_bad_spec_is_a_clear_error(tmp_path, cli):
    spec = yaml.safe_load((CAL / "spec.yaml").read_text())
    spec["scenario"] = str(BASE)
    spec["targets"] = str(CAL / "targets.yaml")
    spec["use_targets"] = ["gui_an_investment_2071"]
    spec["growth_values"] = {"investment.growth_half_life_years": "investment.halflife"}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(TargetsError) as e:
        calibrate(tmp_path / "spec.yaml", quick=True)
    assert "unknown target id 'gui_an_investment_2071'" in str(e.value)
    assert "investment.halflife" in str(e.value)
    res = cli("calibrate", tmp_path / "spec.yaml", "--quick")
    assert res.returncode == 2 and "Traceback" not in res.stderr
