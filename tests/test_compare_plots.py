"""Policy comparison with common random numbers, sensitivity indices, and every plot."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from gzsim import load_scenario, simulate
from gzsim.analysis.compare import compare
from gzsim.analysis.sensitivity import SensitivityError, analyse, sobol_indices
from gzsim.execution.standin import standin_model
from gzsim.experiments import run_sweep
from tests.conftest import BASE, SCENARIOS


@pytest.fixture(scope="module")
def short_base():
    return load_scenario(BASE, overrides=["time.end=2020-12"])


def test_base_against_itself_is_exactly_zero(short_base):
    cmp = compare(short_base, [short_base], replications=4, seed=3, years=[2017, 2020])
    assert len(cmp.table) > 0
    assert (cmp.table["diff_mean"] == 0).all()
    assert (cmp.table["ci_low"] == 0).all() and (cmp.table["ci_high"] == 0).all()
    assert not cmp.table["distinguishable"].any()


def test_a_lever_that_raises_investment_is_positive_and_distinguishable(short_base):
    rate = short_base.investment.arrival_rate_per_month
    more = load_scenario(BASE, overrides=["time.end=2020-12", "name=more_projects",
                                          f"investment.arrival_rate_per_month={rate * 1.5}"])
    cmp = compare(short_base, [more], replications=8, seed=3, years=[2020],
                  indicators=["investment_usd_m", "committed_usd_m"])
    row = cmp.table.set_index("indicator").loc["committed_usd_m"]
    assert row["diff_mean"] > 0 and row["ci_low"] > 0 and row["distinguishable"]


def test_compare_cli_writes_table_and_charts(cli, tmp_path):
    res = cli("compare", BASE, SCENARIOS / "policy_tax_incentives.yaml", "-n", "3", "-w", "1",
              "--out", tmp_path, "--plot")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "comparison.csv")
    fiscal = table[(table["indicator"] == "fiscal_cost_usd_m") & (table["year"] == 2020)]
    assert fiscal["diff_mean"].iloc[0] > 0
    assert "Identical in every replication" in res.stdout  # e.g. before the policy starts
    assert "per US$ m" in res.stdout  # the tax policy's cost-effectiveness
    assert not table["distinguishable"].all()
    assert (tmp_path / "plots" / "diff_public_cost_usd_m.png").stat().st_size > 0
    assert (tmp_path / "plots" / "diff_public_cost_usd_m.svg").stat().st_size > 0
    assert (tmp_path / "policy_tax_incentives" / "series.parquet").exists()


def test_every_plot_function_draws_real_results(short_base, tmp_path):
    from gzsim.analysis.plots import (
        calibration_fit,
        difference_chart,
        fan_chart,
        save_figure,
        sensitivity_chart,
    )

    res = simulate(short_base, replications=3, seed=1)
    other = load_scenario(SCENARIOS / "policy_training.yaml", overrides=["time.end=2020-12"])
    figs = {"fan": fan_chart({"base": res, "training": simulate(other, replications=3, seed=1)},
                             "labour_force"),
            "diff": difference_chart(compare(short_base, [other], replications=3, seed=1),
                                     "employment"),
            "calib": calibration_fit(pd.read_csv(SCENARIOS.parent / "calibration" /
                                                 "report.csv")),
            "sobol": sensitivity_chart(pd.DataFrame({"factor": ["a", "b"], "S1": [0.6, 0.1],
                                                     "S1_conf": [0.1, 0.1], "ST": [0.7, 0.2],
                                                     "ST_conf": [0.1, 0.1]}), "y"),
            "morris": sensitivity_chart(pd.DataFrame({"factor": ["a"], "mu_star": [1.0],
                                                      "mu_star_conf": [0.1], "sigma": [0.2]}))}
    for name, fig in figs.items():
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel() or ax.get_yticklabels(), name
        for p in save_figure(fig, tmp_path / name):
            assert p.stat().st_size > 1000, p
    assert "[" in figs["fan"].axes[0].get_ylabel()  # the unit is on the axis


def test_plot_cli_on_a_run_folder(cli, tmp_path):
    run = cli("run", BASE, "-n", "2", "-o", tmp_path / "r", "-q", "--set", "time.end=2016-12")
    assert run.returncode == 0, run.stderr
    res = cli("plot", tmp_path / "r", "-i", "employment")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r" / "plots" / "fan_employment.png").exists()
    bad = cli("plot", tmp_path / "r", "-i", "employmnt")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


SOBOL = """
name: sens
base: {base}
seed: 3
replications: 1
factors:
  investment.growth_rate_per_year: {{range: [0.05, 0.17]}}
  investment.realisation_share: {{range: [0.4, 0.8]}}
  jobs.indirect_jobs_per_direct_job: {{range: [0.3, 0.8]}}
design: {{kind: sobol, samples: 64, second_order: false}}
outcomes:
  series: false
  scalars:
    - {{name: y, indicator: jobs_direct, year: 2017, aggregation: december}}
"""


def dominant_model(scenario, root_seed, replication, fail_above=None):
    """A stand-in whose output depends almost only on the realisation share."""
    r = scenario.investment.realisation_share
    if fail_above is not None and r > fail_above:
        raise RuntimeError(f"realisation share {r:.3f} is too high for this test model")
    g = scenario.investment.growth_rate_per_year
    m = scenario.jobs.indirect_jobs_per_direct_job
    n = scenario.time.n_months
    return {"jobs_direct": np.full(n, 100 * r + 2 * g + 1 * m)}


def test_sobol_ranks_the_dominant_factor_first(tmp_path):
    exp = tmp_path / "sens.yaml"
    exp.write_text(SOBOL.format(base=BASE))
    run_sweep(exp, tmp_path / "s", backend="serial", progress=False, run_fn=dominant_model)
    name, table = analyse(tmp_path / "s")
    assert name == "y"
    assert table["factor"].iloc[0] == "investment.realisation_share"
    assert table["ST"].iloc[0] > 0.9


def test_sweep_with_failed_runs_gives_a_clear_message(tmp_path):
    exp = tmp_path / "sens.yaml"
    exp.write_text(SOBOL.format(base=BASE))
    fn = functools.partial(dominant_model, fail_above=0.75)
    run_sweep(exp, tmp_path / "s", backend="serial", progress=False, run_fn=fn)
    from gzsim.experiments import read_sweep

    with pytest.raises(SensitivityError) as e:
        sobol_indices(read_sweep(tmp_path / "s"), "y")
    msg = str(e.value)
    assert "failed" in msg and "too high for this test model" in msg


def test_standin_is_importable():
    assert callable(standin_model)
