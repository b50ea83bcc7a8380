"""gzsim backtest: naive forecasts by hand, no later figure in the fit, the command end to end."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from gzsim.calibration.abc import fingerprint
from gzsim.calibration.backtest import (
    cross_validated_coverage,
    discrepancy,
    later_targets,
    load_config,
    naive_row,
    origin_problem,
    with_discrepancy,
)
from gzsim.calibration.backtest_run import backtest_section
from gzsim.calibration.naive import PlanPath, forecasts, level_forecasts
from gzsim.calibration.targets import load_targets
from tests.conftest import REPO

CAL = REPO / "calibration"


# --- naive forecasts on series one can check by hand ----------------------------------------
def test_naive_level_forecasts_by_hand():
    s = {2010: 100.0, 2012: 120.0}
    plan = PlanPath(2010, 100.0, 2015, 200.0)  # 20 a year on the plan's path
    f = level_forecasts(s, 2014, plan)
    assert f["persistence"] == 120.0
    assert f["linear"] == pytest.approx(140.0)  # +10 a year
    assert f["exponential"] == pytest.approx(144.0)  # x1.2 every two years
    # record: 20 of the 40 planned by 2012 (0.5); 2014: 100 + 0.5 x (180 - 100)
    assert f["plan_and_record"] == pytest.approx(140.0)
    one = level_forecasts({2012: 7.0}, 2015, None)
    assert one["linear"] == one["exponential"] == one["persistence"] == 7.0
    assert np.isnan(one["plan_and_record"])  # no plan, no plan rule
    # the record needs no figure at the plan's base: 20 of 40 planned by 2012 again
    assert level_forecasts({2012: 120.0}, 2014, plan)["plan_and_record"] == pytest.approx(140.0)
    assert level_forecasts({}, 2014, plan)["plan_and_record"] == pytest.approx(180.0)  # as planned


def test_naive_fall_forecasts_by_hand():
    levels = {2011: 10.0, 2013: 8.0}  # a stock falling by 1 a year
    f = forecasts(levels, 2014, "fall", origin=2013)
    assert f["persistence"] == pytest.approx(1.0)  # the last change a year, carried forward
    assert f["linear"] == pytest.approx(1.0)
    assert f["exponential"] == pytest.approx(8.0 - 8.0 * 0.8 ** 0.5)  # from the known 2013
    later = forecasts(levels, 2015, "fall", origin=2013)  # 2014 is forecast too
    assert later["linear"] == pytest.approx(1.0)
    assert later["exponential"] == pytest.approx(8.0 * 0.8 ** 0.5 - 8.0 * 0.8)
    assert forecasts(levels, 2014, "change", origin=2013)["linear"] == pytest.approx(-1.0)


def test_naive_rows_use_only_the_figures_known_at_the_origin():
    cfg = load_config(CAL / "backtest.yaml")
    every = load_targets(CAL / "targets.yaml")
    later = {t.id: t for t in later_targets(every, 2013, cfg.window_end)}
    row = naive_row(cfg, every, later["gz_expressway_2015"], 2013)
    # expressway levels known at the end of 2013: 2,023 (2011), 2,630 (2012), 3,281 (2013)
    assert row["persistence"] == 3281
    slope, icpt = np.polyfit([2011, 2012, 2013], [2023, 2630, 3281], 1)
    assert row["linear"] == pytest.approx(icpt + slope * 2015)
    # plan-and-record: 4,500 by 2015 from 1,507 (2010); 2013 record (3281-1507)/(2302.8-1507)
    path = PlanPath(2010, 1507, 2015, 4500)
    rec = (3281 - 1507) / (path.at(2013) - 1507)
    assert row["plan_and_record"] == pytest.approx(1507 + rec * (4500 - 1507))
    assert "gz_expressway_2013" not in later and "guizhou_expressway_2012" not in later


# --- no figure after the origin enters the fit ------------------------------------------------
def test_no_target_after_the_origin_is_used_in_fitting(tmp_path):
    cfg = load_config(CAL / "backtest.yaml")
    p = origin_problem(cfg, CAL / "spec.yaml", 2013, cfg.quick)
    assert p.fitted and all(t.last_year <= 2013 for t in p.candidates)
    assert all(y <= 2013 for f in p.growth_fits.values() for _, y, _ in f.observations)
    assert all((t.period[1] if t.period else t.year) <= 2013 for t in p.targets_file.targets)
    assert p.spec.horizon_end == "2013-12"
    # change every later figure: the origin's problem (and so its ABC run) is the same
    copy = tmp_path / "calibration"
    shutil.copytree(CAL, copy, ignore=shutil.ignore_patterns("*.db", "*.png", "*.svg", "backtest",
                                                            "*.gzsim-tmp", "*.parquet"))
    (copy / "spec.yaml").write_text((CAL / "spec.yaml").read_text().replace(
        "../scenarios/base.yaml", str(REPO / "scenarios" / "base.yaml")))
    data = yaml.safe_load((copy / "targets.yaml").read_text())
    for t in data["targets"]:
        if (t.get("period") or [0, t.get("year") or 0])[-1] > 2013:
            t["value"] = t["value"] * 1.5 + 1
    (copy / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    q = origin_problem(cfg, copy / "spec.yaml", 2013, cfg.quick)
    assert q.observed == p.observed and q.growth_values == p.growth_values
    assert fingerprint(q) == fingerprint(p)
    full = origin_problem(cfg, copy / "spec.yaml", 2014, cfg.quick)
    assert fingerprint(full) != fingerprint(p)  # (the test can fail: a later origin differs)


# --- the discrepancy term -----------------------------------------------------------------
def test_discrepancy_widens_bands_that_miss():
    t = pd.DataFrame({"observed": [110.0, 90.0, 120.0, 80.0, 50.0],
                      "median": [100.0] * 4 + [20.0], "p05": [99.0] * 4 + [19.0],
                      "p95": [101.0] * 4 + [21.0], "horizon": [1, 1, 2, 2, 1],
                      "indicator": ["a", "a", "a", "a", "b"],
                      "aggregation": ["december"] * 4 + ["fall"]})
    d = discrepancy(t)
    assert set(d) == {"a"} and d["a"] > 0.05  # a fall adds no estimate of its own
    # by hand: r = log(obs/100), s = log(101/99) / (2 x 1.645), mean((r^2 - s^2) / h)
    r = np.log(t["observed"][:4] / 100.0)
    s = np.log(101 / 99) / (2 * 1.6448536269514722)
    assert d["a"] == pytest.approx(np.sqrt(np.mean((r ** 2 - s ** 2) / t["horizon"][:4])))
    w = with_discrepancy(t, d)
    assert (w["p95_d"][:4] > t["p95"][:4]).all() and w["covered_d"][:4].all()
    assert w["p95_d"][4] == t["p95"][4]  # the fall keeps its band
    assert discrepancy(t.assign(observed=t["median"]))["a"] == 0.0  # no misses: no term


def test_leave_one_origin_out_never_lets_a_figure_widen_its_own_band():
    """Origin 1 misses by 10 %, origin 2 hits: in sample every band covers, out of sample the
    hits widen nothing, so origin 1's figures stay uncovered."""
    t = pd.DataFrame({"origin": [1, 1, 2, 2], "observed": [110.0, 90.0, 100.0, 100.0],
                      "median": [100.0] * 4, "p05": [99.0] * 4, "p95": [101.0] * 4,
                      "horizon": [1] * 4, "indicator": ["a"] * 4,
                      "aggregation": ["december"] * 4})
    assert with_discrepancy(t, discrepancy(t))["covered_d"].all()
    assert cross_validated_coverage(t) == 0.5
    assert np.isnan(cross_validated_coverage(t[t["origin"] == 1]))


# --- the command, with a tiny budget ----------------------------------------------------------
def tiny_config(tmp_path):
    data = yaml.safe_load((CAL / "backtest.yaml").read_text())
    data["spec"] = str(CAL / "spec.yaml")
    tiny = {"population": 6, "replications": 1, "max_generations": 1, "minimum_epsilon": 0.5,
            "min_acceptance_rate": 0.0, "max_walltime_minutes": 0.5, "predictive_draws": 4}
    data["quick"] = data["full"] = tiny
    data["origins"] = [2014]
    path = tmp_path / "backtest.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_backtest_command_runs_and_owns_its_folder(cli, tmp_path):
    config = tiny_config(tmp_path)
    out = tmp_path / "bt"
    res = cli("backtest", "--config", config, "--quick", "-o", out, "-w", "1", timeout=600)
    assert res.returncode == 0, res.stderr
    for name in ("backtest.md", "backtest.csv", "pit.png", "origin-2014/posterior.parquet"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "backtest.csv")
    assert set(table["id"]) == {"gz_expressway_2015", "gz_rail_2015", "gz_rural_poor_2015",
                                "gz_rural_poor_reduced_2015"}
    assert (table["year"] > table["origin"]).all()
    assert {"median", "p05", "p95", "covered", "pit", "linear", "plan_and_record"} <= set(
        table.columns)
    assert "MAPE" in (out / "backtest.md").read_text()
    section = backtest_section(out)  # what gzsim calibrate puts into calibration/report.md
    assert section.startswith("\n## Backtest: rolling origins") and "| model |" in section
    assert "## Origin" not in section and backtest_section(tmp_path / "none") == ""
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    res = cli("backtest", "--config", config, "--quick", "-o", foreign)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert (foreign / "notes.txt").read_text() == "keep"
    res = cli("backtest", "--config", config, "--origin", "2015", "-o", tmp_path / "x")
    assert res.returncode == 2 and "nothing to forecast" in res.stderr
