"""Figures (gzsim.analysis.plots) from real results: every function writes non-empty PNG and SVG.

test_compare_plots.py draws each chart once through the CLI and the API; these check the
rest: a bare Result, both calibration naming styles, plot_results, suffixes, bad inputs.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gzsim import UserError, load_scenario, simulate
from gzsim.analysis.compare import compare_results
from gzsim.analysis.plots import (
    calibration_fit,
    difference_chart,
    fan_chart,
    plot_results,
    save_figure,
    sensitivity_chart,
)
from tests.conftest import BASE, REPO, SCENARIOS


@pytest.fixture(scope="module")
def runs():
    short = ["time.end=2017-12"]
    base = simulate(load_scenario(BASE, overrides=short), replications=3, seed=2)
    training = simulate(load_scenario(SCENARIOS / "policy_training.yaml", overrides=short),
                        replications=3, seed=2)
    return {"base": base, "policy_training": training}


def written(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000, p
    return paths


def test_fan_chart_of_one_result_has_years_and_unit(runs, tmp_path):
    fig = fan_chart(runs["base"], "investment_usd_m")
    ax = fig.axes[0]
    assert "US$ m/year" in ax.get_ylabel() and ax.get_xlabel() == "year"  # flows: annual
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.isdigit() and 2010 <= int(t) <= 2020 for t in ticks), ticks
    written(save_figure(fig, tmp_path / "fan"))
    with pytest.raises(KeyError):
        fan_chart(runs, "no_such_indicator")


def test_difference_chart_uses_annual_unit_and_zero_line(runs, tmp_path):
    cmp = compare_results(runs, years=[2015, 2017])
    fig = difference_chart(cmp, "jobs_created")
    ax = fig.axes[0]
    assert "jobs/year" in ax.get_ylabel()
    assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())
    written(save_figure(fig, tmp_path / "diff.png"))  # a suffix is replaced, not doubled
    assert not (tmp_path / "diff.png.png").exists()
    with pytest.raises(KeyError):
        difference_chart(cmp, "no_such_indicator")


@pytest.mark.parametrize("style", ["report", "mean_ci90", "low_high"])
def test_calibration_fit_accepts_both_naming_styles(style, tmp_path):
    table = pd.read_csv(REPO / "calibration" / "report.csv")
    if style == "mean_ci90":  # a least-squares report names its centre sim_mean
        table = table.rename(columns={"sim_median": "sim_mean", "sim_p05": "ci90_low",
                                      "sim_p95": "ci90_high"})
    elif style == "low_high":
        table = table.rename(columns={"sim_p05": "sim_low", "sim_p95": "sim_high"})
    fig = calibration_fit(table)
    assert fig.axes[0].get_xlabel()
    written(save_figure(fig, tmp_path / f"calib_{style}"))


def test_calibration_fit_with_a_zero_target_and_no_year(tmp_path):
    table = pd.DataFrame({"id": ["a", "b"], "observed": [0.0, 10.0], "sim_mean": [0.5, 9.0],
                          "sim_low": [0.0, 8.0], "sim_high": [1.0, 11.0]})
    fig = calibration_fit(table)
    assert "own unit" in fig.axes[0].get_xlabel()
    written(save_figure(fig, tmp_path / "calib_abs"))
    with pytest.raises(ValueError, match="interval"):
        calibration_fit(table.drop(columns=["sim_low"]))


def test_sensitivity_chart_rejects_unknown_columns():
    with pytest.raises(ValueError):
        sensitivity_chart(pd.DataFrame({"factor": ["a"], "x": [1.0]}))
    fig = sensitivity_chart(pd.DataFrame({"factor": ["a", "b"], "mu_star": [1.0, 0.5],
                                          "sigma": [0.2, 0.1]}), "y")
    assert "Morris" in fig.axes[0].get_xlabel()


def test_plot_results_of_a_saved_run(runs, tmp_path):
    runs["base"].save(tmp_path / "run")
    paths = plot_results(tmp_path / "run", tmp_path / "charts", ["employment", "rail_km"])
    assert len(paths) == 4 and all(p.parent == tmp_path / "charts" for p in paths)
    written(paths[:2])
    default = plot_results(tmp_path / "run")
    assert len(default) >= 8 and default[0].parent == tmp_path / "run" / "plots"
    with pytest.raises(UserError, match="employmnt"):
        plot_results(tmp_path / "run", indicators=["employmnt"])
    with pytest.raises(UserError, match="not a gzsim results folder"):
        plot_results(tmp_path / "charts")


def test_cli_plot_bad_folder_is_a_user_error(cli, tmp_path):
    res = cli("plot", tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "Example" in cli("plot", "--help").stdout


# --- report-ready: titles, separators, no offset, annual flows, legends, captions, no empties


def test_fan_chart_is_report_ready(runs, tmp_path):
    fig = fan_chart(runs["base"], "poor_people")
    ax = fig.axes[0]
    fig.canvas.draw()
    assert ax.get_title() == "Poor people (province)"  # from the registry, not the raw name
    assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e6 offset
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any("," in t for t in labels), labels  # thousands separators
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # the legend is outside the data
    caption = " ".join(t.get_text() for t in fig.texts)
    assert "3 replications" in caption and "seed 2" in caption and "gzsim" in caption
    written(save_figure(fig, tmp_path / "poor"))
    flow = fan_chart(runs["base"], "investment_usd_m")
    assert len(flow.axes[0].get_lines()[0].get_xdata()) == 6  # 2012-2017: one point a year
    monthly = fan_chart(runs["base"], "investment_usd_m", annual=False)
    assert len(monthly.axes[0].get_lines()[0].get_xdata()) == 72


def test_difference_chart_has_one_legend_entry_per_scenario(runs):
    cmp = compare_results(runs, years=[2015, 2017])
    labels = [t.get_text() for t in difference_chart(cmp, "employment").axes[0]
              .get_legend().get_texts()]
    assert labels == ["policy_training", "interval excludes 0", "interval includes 0"]


def test_calibration_fit_shows_the_centre_the_table_has():
    """Means for a fit on means; the posterior predictive report (ABC) has medians."""
    ppc = pd.read_csv(REPO / "calibration" / "report.csv")
    texts = [t.get_text() for t in calibration_fit(ppc).axes[0].get_legend().get_texts()]
    assert any("simulated median" in t for t in texts)
    means = pd.DataFrame({"id": ["a"], "observed": [10.0], "sim_mean": [9.0],
                          "sim_median": [8.0], "sim_low": [8.0], "sim_high": [11.0]})
    texts = [t.get_text() for t in calibration_fit(means).axes[0].get_legend().get_texts()]
    assert any("simulated mean" in t for t in texts)


def test_no_empty_charts_and_overlays(runs, tmp_path):
    runs["base"].save(tmp_path / "base")
    runs["policy_training"].save(tmp_path / "training")
    skipped: list[str] = []
    paths = plot_results(tmp_path / "base", tmp_path / "c", ["employment", "fiscal_cost_usd_m"],
                         skipped)
    assert skipped == ["fiscal_cost_usd_m"]  # zero in every replication: not drawn
    assert [p.name for p in paths] == ["fan_employment.png", "fan_employment.svg"]
    both = plot_results([tmp_path / "base", tmp_path / "training"], indicators=["employment"])
    assert both[0].parent == tmp_path / "base" / "plots" / "overlay"
    import matplotlib.image

    assert matplotlib.image.imread(both[0]).shape[1] > 600  # a real picture was drawn
