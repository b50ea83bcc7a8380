"""Paired comparison (analysis.compare): the pairing, the intervals, failed replications, the CLI.

The slow end-to-end checks (base against itself, a lever on committed investment, the CLI with
charts) are in test_compare_plots.py; these add the rest of what compare promises.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gzsim import Result, UserError, load_scenario
from gzsim.analysis.compare import TABLE_COLUMNS, compare, compare_results
from tests.conftest import BASE, SCENARIOS

SHORT = ["time.end=2020-12"]


def synthetic(values: dict[int, dict[str, list[float]]], failed: tuple[int, ...] = (),
              n: int | None = None, name: str = "s") -> Result:
    """A Result with monthly series over 2015-2016: replication -> indicator -> 24 values."""
    dates = pd.date_range("2015-01-01", periods=24, freq="MS")
    frames = [pd.DataFrame({"replication": k, "date": dates, **cols})
              for k, cols in values.items()]
    n = n if n is not None else len(values) + len(failed)
    failures = pd.DataFrame({"replication": list(failed), "error": ["boom"] * len(failed)}) \
        if failed else None
    manifest = {"scenario": {"name": name, "time": {"milestone_years": [2015, 2016]}},
                "replications": n, "failed_replications": list(failed)}
    return Result(series=pd.concat(frames, ignore_index=True), manifest=manifest,
                  failures=failures)


def test_lever_raises_investment_with_ci_excluding_zero():
    base = load_scenario(BASE, overrides=SHORT)
    rate = base.investment.arrival_rate_per_month
    more = load_scenario(BASE, overrides=[*SHORT, f"investment.arrival_rate_per_month="
                                                  f"{round(rate * 1.5, 6)}"])
    # parameters fixed (noise only): with posterior draws the effect itself differs from draw to
    # draw, and a year's flow is carried by a few large projects that a faster clock moves to
    # other years (at the committed posterior, 3 of 8 pairs fell in 2020: CI [-84, 1932])
    cmp = compare(base, more, replications=8, seed=5, years=[2020],
                  indicators=["investment_usd_m"], uncertainty="noise")
    assert list(cmp.table.columns[:len(TABLE_COLUMNS)]) == TABLE_COLUMNS
    row = cmp.table.iloc[0]
    assert row["scenario"] != "base"  # same scenario name as the base: made unique
    assert row["indicator"] == "investment_usd_m" and row["year"] == 2020
    assert row["diff_mean"] > 0 and row["ci_low"] > 0 and row["distinguishable"]
    assert row["unit"] == "US$ m/year"  # a flow's annual value is its sum over the year
    assert row["rel_diff"] == pytest.approx(row["diff_mean"] / row["base_mean"])
    assert row["other_mean"] - row["base_mean"] == pytest.approx(row["diff_mean"])
    assert row["n_pairs"] == 8 and row["n_dropped"] == 0
    assert set(cmp.results) == {"base", row["scenario"]}


def test_paths_default_indicators_and_milestones(tmp_path):
    cmp = compare(BASE, [BASE], replications=2, seed=1, years=None)
    t = cmp.table
    # every indicator column of the series, at every milestone year
    series_cols = [c for c in cmp.results["base"].series.columns
                   if c not in ("replication", "date")]
    assert set(t["indicator"]) == set(series_cols)
    assert sorted(t["year"].unique()) == [2015, 2017, 2020, 2025, 2030]
    assert (t["diff_mean"] == 0).all() and not t["distinguishable"].any()
    stock = t[(t["indicator"] == "employment") & (t["year"] == 2020)].iloc[0]
    annual = cmp.results["base"].annual("employment")
    assert stock["base_mean"] == pytest.approx(annual[annual["year"] == 2020]["employment"]
                                               .mean())
    out = cmp.save(tmp_path / "cmp")
    back = pd.read_csv(out / "comparison.csv")
    assert list(back.columns[:len(TABLE_COLUMNS)]) == TABLE_COLUMNS
    assert (out / "base" / "series.parquet").exists()
    assert (out / "base_2" / "manifest.json").exists()


def test_pairs_only_replications_that_succeeded_in_both():
    ramp = list(np.arange(24.0))
    base = synthetic({0: {"x": ramp}, 1: {"x": ramp}, 2: {"x": ramp}, 3: {"x": ramp}},
                     name="base")
    # replication 1 failed in the other scenario; its differences would be huge if paired
    other = synthetic({0: {"x": [v + 1 for v in ramp]}, 2: {"x": [v + 1 for v in ramp]},
                       3: {"x": [v + 3 for v in ramp]}}, failed=(1,), name="other")
    cmp = compare_results({"base": base, "other": other}, level=0.9)
    assert cmp.dropped == {"other": 1}
    t = cmp.table.set_index("year")
    assert (t["n_pairs"] == 3).all() and (t["n_dropped"] == 1).all()
    # stock (unknown indicator -> December level): differences 1, 1, 3
    d = np.array([1.0, 1.0, 3.0])
    from scipy import stats

    half = stats.t.ppf(0.95, 2) * d.std(ddof=1) / np.sqrt(3)
    assert t.loc[2016, "diff_mean"] == pytest.approx(d.mean())
    assert t.loc[2016, "ci_low"] == pytest.approx(d.mean() - half)
    assert t.loc[2016, "ci_high"] == pytest.approx(d.mean() + half)


def test_flow_annual_sum_and_identical_nonzero_differences():
    ones = [1.0] * 24
    base = synthetic({k: {"jobs_created": ones} for k in range(3)}, name="base")
    other = synthetic({k: {"jobs_created": [2.0] * 24} for k in range(3)}, name="other")
    t = compare_results({"base": base, "other": other}).table
    assert (t["base_mean"] == 12).all() and (t["diff_mean"] == 12).all()
    assert (t["ci_low"] == 12).all() and (t["ci_high"] == 12).all()
    assert t["distinguishable"].all() and (t["unit"] == "jobs/year").all()


def test_one_pair_gives_no_interval():
    base = synthetic({0: {"x": [0.0] * 24}, 1: {"x": [0.0] * 24}}, name="base")
    other = synthetic({0: {"x": [1.0] * 24}}, failed=(1,), name="other")
    t = compare_results({"base": base, "other": other}).table
    assert (t["n_pairs"] == 1).all()
    assert t["ci_low"].isna().all() and not t["distinguishable"].any()


def test_nothing_to_pair_is_explicit():
    base = synthetic({0: {"x": [0.0] * 24}}, name="base")
    other = Result(series=pd.DataFrame(columns=["replication", "date", "x"]),
                   manifest={"replications": 1, "failed_replications": [0]},
                   failures=pd.DataFrame({"replication": [0], "error": ["boom"]}))
    cmp = compare_results({"base": base, "other": other})
    assert cmp.dropped == {"other": 1}
    assert (cmp.table["n_pairs"] == 0).all() and not cmp.table["distinguishable"].any()


def test_bad_inputs_are_user_errors():
    base = synthetic({0: {"x": [0.0] * 24}, 1: {"x": [1.0] * 24}}, name="base")
    with pytest.raises(UserError, match="nope"):
        compare_results({"base": base, "other": base}, indicators=["nope"])
    with pytest.raises(UserError, match="1999"):
        compare_results({"base": base, "other": base}, years=[1999])
    with pytest.raises(UserError):
        compare_results({"base": base})
    with pytest.raises(UserError):
        compare(BASE, [SCENARIOS / "no_such.yaml"], replications=2)


def test_print_collapses_rows_that_are_exactly_zero():
    from rich.console import Console

    base = synthetic({0: {"x": [0.0] * 24}, 1: {"x": [1.0] * 24}}, name="base")
    console = Console(record=True, width=200)
    compare_results({"base": base, "again": base}, indicators=["x"]).print(console)
    text = console.export_text()
    assert "Identical in every replication" in text and "X 2015, 2016" in text


def test_cli_compare_writes_csv(cli, tmp_path):
    res = cli("compare", BASE, SCENARIOS / "policy_training.yaml", "-n", "4", "-w", "1",
              "--out", tmp_path, "--no-plot", "--set", "time.end=2017-12")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert set(table["scenario"]) == {"policy_training"}
    assert (table["n_pairs"] == 4).all()
    assert not (tmp_path / "plots").exists()
    assert "comparison.csv" in res.stdout


def test_cli_compare_bad_inputs(cli, tmp_path):
    one = cli("compare", BASE, "--out", tmp_path)
    assert one.returncode == 2 and "Traceback" not in one.stderr
    missing = cli("compare", BASE, tmp_path / "missing.yaml", "--out", tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "missing.yaml" in missing.stderr
    assert "Example" in cli("compare", "--help").stdout


def test_a_policy_on_another_scenario_than_the_base_is_warned_naming_its_parent():
    from gzsim.errors import ScenarioWarning

    base = load_scenario(BASE, overrides=SHORT)
    scarce = load_scenario(SCENARIOS / "policy_land_push_scarce.yaml", overrides=SHORT)
    with pytest.warns(ScenarioWarning, match="extends land_scarce .*land_scarce.yaml.*, not "
                                             "base.*gzsim compare .*policy_land_push_scarce"):
        compare(base, scarce, replications=2, seed=1, years=[2017], indicators=["employment"])


def test_a_policy_alone_is_compared_with_its_parent(cli, tmp_path):
    import warnings

    from gzsim.errors import ScenarioWarning

    with warnings.catch_warnings():
        # no parent warning: it is the parent
        warnings.filterwarnings("error", ".*extends", ScenarioWarning)
        cmp = compare(load_scenario(SCENARIOS / "policy_land_push_scarce.yaml",
                                    overrides=SHORT), replications=2, seed=1, years=[2017])
    assert cmp.base == "land_scarce" and cmp.compared() == [("policy_land_push_scarce",
                                                             "land_scarce")]
    assert set(cmp.table["base"]) == {"land_scarce"}
    r = cli("compare", SCENARIOS / "policy_land_push_scarce.yaml", "-n", "2", "-w", "1",
            "--set", "time.end=2017-12", "-y", "2017", "--no-plot", "-q", "-o",
            tmp_path / "c")
    assert r.returncode == 0, r.stderr
    assert "policy_land_push_scarce vs land_scarce" in r.stdout
    assert "extends" not in r.stderr  # no parent warning
    head = pd.read_csv(tmp_path / "c" / "headline.csv")
    assert {"cost_usd_m", "per_usd_m", "diff_p05", "diff_p95"} <= set(head.columns)
    assert set(head["base"]) == {"land_scarce"}
