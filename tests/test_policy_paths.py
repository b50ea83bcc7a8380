"""Levers as dimensions: policies addressed by name in --set and in experiment factors, with
located errors; the dose-response of a swept lever (table and figure, both bands)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gzsim import load_scenario
from gzsim.errors import ExperimentError, ScenarioError
from gzsim.scenario.paths import check_scenario_path
from tests.conftest import SCENARIOS

TAX = SCENARIOS / "policy_tax_incentives.yaml"
PATH = "policies.tax_incentives.levers.tax_incentive_share"


def test_set_a_lever_by_the_policy_name():
    sc = load_scenario(TAX, overrides=[f"{PATH}=0.2"])
    assert sc.policies[0].levers.tax_incentive_share == 0.2
    assert sc._provenance["overrides"] == [f"{PATH}=0.2"]
    assert load_scenario(TAX).policies[0].levers.tax_incentive_share == 0.3  # not mutated


@pytest.mark.parametrize("path, message", [
    ("policies.tax_incentive.levers.tax_incentive_share", "no entry named 'tax_incentive' "
     "(did you mean 'tax_incentives'?)"),
    ("policies.tax_incentives.levers.tax_incentive_shar", "did you mean "
     "'tax_incentive_share'"),
    ("policies.tax_incentives", "name a field of the entry"),
])
def test_unknown_policy_or_lever_names_are_located_errors(path, message):
    with pytest.raises(ScenarioError, match=re.escape(message)) as e:
        load_scenario(TAX, overrides=[f"{path}=0.2"])
    assert e.value.problems[0].file.startswith("--set")


def test_a_scenario_without_policies_says_so():
    with pytest.raises(ScenarioError, match="the scenario has no policies"):
        load_scenario(SCENARIOS / "base.yaml", overrides=[f"{PATH}=0.2"])


def test_experiment_factor_paths_name_policies(tmp_path):
    from gzsim.scenario import resolve_scenario_data

    data, _ = resolve_scenario_data(TAX)
    assert check_scenario_path(PATH, data) is None
    why = check_scenario_path("policies.tax_incentive.levers.tax_incentive_share", data)
    assert "did you mean 'policies.tax_incentives'" in why
    exp = tmp_path / "e.yaml"
    exp.write_text(f"name: e\nbase: {TAX}\nfactors:\n  policies.taxes.levers."
                   "tax_incentive_share: {levels: [0, 0.2]}\ndesign: {kind: full_factorial}\n")
    from gzsim.experiments import load_experiment

    with pytest.raises(ExperimentError, match="no entry named 'taxes'") as e:
        load_experiment(exp)
    assert e.value.problems[0].line == 4  # located in the experiment file


def test_dose_response_of_a_swept_lever(tmp_path):
    from gzsim.analysis.dose import dose_response
    from gzsim.cli.commands import dose_report
    from gzsim.experiments import load_experiment, run_sweep

    exp = tmp_path / "dose.yaml"
    exp.write_text(f"name: dose\nbase: {TAX}\nseed: 3\nreplications: 3\n"
                   "set: {time.end: 2019-12}\n"
                   f"factors:\n  {PATH}: {{name: share, levels: [0, 0.2, 0.4]}}\n"
                   "posterior_factors: {levels: 2, paths: [investment.realisation_share]}\n"
                   "design: {kind: full_factorial}\noutcomes: {series: true}\n")
    res = run_sweep(load_experiment(exp), tmp_path / "store", workers=1, progress=False)
    t = dose_response(res.path, year=2019).set_index("value")
    assert list(t.index) == [0.0, 0.2, 0.4] and (t["n_pairs"] == 6).all()
    assert t.loc[0.0, "diff_mean"] == 0 and t.loc[0.0, "cost_usd_m"] == 0  # its own baseline
    assert 0 < t.loc[0.2, "cost_usd_m"] < t.loc[0.4, "cost_usd_m"]  # taxes forgone grow
    for v in (0.2, 0.4):
        r = t.loc[v]
        assert r.ci_low <= r.diff_mean <= r.ci_high and r.diff_p05 <= r.diff_p95
        assert np.isfinite(r.per_usd_m) and r.per_usd_m_p05 <= r.per_usd_m_p95
    lines: list[str] = []
    dose_report(res.path, None, "employment", 2019, 0.9, "md", lines.append)
    text = "\n".join(lines)
    assert "how sure is the average" in " ".join(text.split())
    assert (res.path / "dose_response.png").stat().st_size > 10_000
    assert (res.path / "dose_response.csv").exists()
