"""The headline of gzsim compare: question's indicators, relative intervals, cost-effectiveness,
zero rows collapsed, 80-column tables in four formats, and the run summary's layout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gzsim import Result
from gzsim.analysis.compare import compare_results
from gzsim.analysis.headline import ratio_interval
from gzsim.analysis.tables import fmt, render_text, title, unit_format
from gzsim.cli.report import summary_table
from tests.conftest import BASE, SCENARIOS

TAX = {"name": "tax", "question": "Jobs per US$ forgone?", "indicators": ["employment"]}


def synthetic(values: dict[int, dict[str, list[float]]], name: str, policies=()) -> Result:
    """Monthly series over 2015-2016 (24 months): replication -> indicator -> values."""
    dates = pd.date_range("2015-01-01", periods=24, freq="MS")
    frames = [pd.DataFrame({"replication": k, "date": dates, **cols})
              for k, cols in values.items()]
    manifest = {"scenario": {"name": name, "time": {"milestone_years": [2015, 2016]},
                             "policies": list(policies),
                             "region": {"name": "Somewhere", "province": "Elsewhere"}},
                "replications": len(values)}
    return Result(series=pd.concat(frames, ignore_index=True), manifest=manifest)


def pair(extra_jobs: list[float], cost_per_month: list[float]):
    """A base and a policy: employment + extra (from 2016), fiscal cost in 2016 only."""
    rng = np.random.default_rng(0)
    base, other = {}, {}
    for k, (e, c) in enumerate(zip(extra_jobs, cost_per_month, strict=True)):
        emp = list(1000 + rng.integers(0, 50, 24).astype(float))
        base[k] = {"employment": emp, "fiscal_cost_usd_m": [0.0] * 24}
        other[k] = {"employment": emp[:12] + [v + e for v in emp[12:]],
                    "fiscal_cost_usd_m": [0.0] * 12 + [c] * 12}
    return synthetic(base, "base"), synthetic(other, "tax", [TAX])


def test_ratio_interval_is_the_delta_method_over_pairs():
    rng = np.random.default_rng(1)
    x, y = rng.normal(10, 2, 30), rng.normal(5, 1, 30)
    r, lo, hi = ratio_interval(x, y, 0.9)
    assert r == pytest.approx(x.mean() / y.mean())
    # the same interval from the linearised residuals x - r y
    se = np.std(x - r * y, ddof=1) / np.sqrt(30) / y.mean()
    assert hi - r == pytest.approx(stats.t.ppf(0.95, 29) * se)
    assert ratio_interval(np.ones(4) * 3, np.ones(4) * 2, 0.9) == (1.5, 1.5, 1.5)
    assert np.isnan(ratio_interval(np.ones(3), np.zeros(3), 0.9)[0])


def test_headline_rows_relative_change_and_cost_effectiveness():
    base, tax = pair([100.0, 120.0, 80.0, 110.0], [1.0, 1.0, 1.0, 1.0])
    cmp = compare_results({"base": base, "tax": tax})
    h = cmp.headline().set_index("year")
    assert list(h["indicator"].unique()) == ["employment"]  # what the question names
    assert h.loc[2015, "zero"] and not h.loc[2016, "zero"]  # before the policy: exactly 0
    d = np.array([100.0, 120.0, 80.0, 110.0])
    assert h.loc[2016, "diff_mean"] == pytest.approx(d.mean())
    assert h.loc[2016, "rel_diff"] == pytest.approx(d.mean() / h.loc[2016, "base_mean"])
    assert h.loc[2016, "rel_low"] < h.loc[2016, "rel_diff"] < h.loc[2016, "rel_high"]
    # cost 12 US$ m in 2016 in every replication: jobs per US$ m = mean extra / 12
    assert h.loc[2016, "cost_usd_m"] == pytest.approx(12.0)
    assert h.loc[2016, "per_usd_m"] == pytest.approx(d.mean() / 12)
    half = stats.t.ppf(0.95, 3) * d.std(ddof=1) / 2 / 12
    assert h.loc[2016, "per_usd_m_high"] - h.loc[2016, "per_usd_m"] == pytest.approx(half)
    assert h.loc[2016, "per_usd_m_unit"] == "people per US$ m"
    assert np.isnan(h.loc[2015, "per_usd_m"])  # no cost yet: no ratio


def test_printed_headline_fits_80_columns_and_collapses_zero_rows():
    base, tax = pair([100.0, 120.0, 80.0, 110.0], [1.0, 1.5, 1.0, 1.0])
    cmp = compare_results({"base": base, "tax": tax})
    text = render_text(cmp.tables())
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Jobs per US$ forgone?" in text  # the policy's question is the title
    flat = " ".join(text.split())
    assert "Identical in every replication" in flat and "Employment 2015" in flat
    assert "people per US$ m" in text and "Employment (people, district)" in text
    assert "2015 " not in text.split("Identical")[0]  # the zero row is not a table row


def test_formats_csv_json_md(capsys):
    base, tax = pair([100.0, 120.0, 80.0, 110.0], [1.0, 1.0, 1.0, 1.0])
    cmp = compare_results({"base": base, "tax": tax})
    cmp.print(form="csv")
    back = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert {"rel_low", "per_usd_m", "zero", "unit"} <= set(back.columns)
    cmp.print(form="json")
    data = json.loads(capsys.readouterr().out)
    assert data["base"] == "base" and data["rows"][1]["per_usd_m"] == pytest.approx(
        cmp.headline()["per_usd_m"].iloc[1])
    cmp.print(form="md")
    md = capsys.readouterr().out
    assert "| year | base |" in md and "---:" in md


def test_unknown_question_indicator_is_a_user_error():
    from gzsim import UserError

    base, tax = pair([1.0, 2.0], [1.0, 1.0])
    tax.manifest["scenario"]["policies"] = [{**TAX, "indicators": ["nope"]}]
    with pytest.raises(UserError, match="nope"):
        compare_results({"base": base, "tax": tax}).headline()


def test_one_number_format_per_unit():
    assert unit_format("people") == unit_format("jobs/year") == "{:,.0f}"
    assert fmt(72.0, "firms") == "72" and fmt(1234567.4, "people") == "1,234,567"
    assert fmt(13190.0, "US$ m/year") == "13,190.0"
    assert fmt(-0.01, "people", sign=True) == "0"
    assert title("investment_usd_m") == "Investment" and title("jobs_created") == "Jobs created"


def test_run_summary_is_long_grouped_by_geography_and_fits_80_columns():
    base, _ = pair([1.0, 2.0], [1.0, 1.0])
    base.series["people_resettled"] = 1.0
    text = render_text([summary_table(base)])
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "District (Somewhere)" in text and "Province (Elsewhere)" in text
    assert text.index("Employment") < text.index("Province") < text.index("People resettled")


def test_cli_compare_formats_and_progress(cli, tmp_path):
    res = cli("compare", BASE, SCENARIOS / "policy_tax_incentives.yaml", "-n", "2", "-w", "1",
              "--out", tmp_path, "--no-plot", "--set", "time.end=2020-12", "-f", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)  # nothing else on stdout: progress and notes go to stderr
    assert {r["indicator"] for r in data["rows"]} == {"investment_usd_m", "employment"}
    assert any(r["per_usd_m"] is not None for r in data["rows"])
    assert (tmp_path / "headline.csv").exists()
    table = cli("compare", BASE, SCENARIOS / "policy_tax_incentives.yaml", "-n", "2", "-w", "1",
                "--out", tmp_path / "t", "--no-plot", "--set", "time.end=2020-12", "-q")
    lines = [ln for ln in table.stdout.splitlines() if "written to" not in ln]  # long paths
    assert max(len(line) for line in lines) <= 80
    assert "Extra investment and jobs per US$ of tax forgone?" in table.stdout


def test_cli_run_summary_formats(cli, tmp_path):
    res = cli("run", BASE, "-n", "2", "-w", "1", "-o", tmp_path / "r", "--set",
              "time.end=2017-12", "-f", "csv")
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(__import__("io").StringIO(res.stdout))  # only the table on stdout
    assert {"indicator", "geography", "unit", "year", "median", "p05", "p95"} <= \
        set(frame.columns)
    assert set(frame["geography"]) == {"district", "province"}
    table = cli("run", BASE, "-n", "2", "-w", "1", "-o", tmp_path / "t", "--set",
                "time.end=2017-12", "-q")
    lines = [ln for ln in table.stdout.splitlines() if "written to" not in ln]
    assert max(len(ln) for ln in lines) <= 80 and "Province (Guizhou)" in table.stdout
