"""The whole public cost of a policy: the model's lines, the policies' YAML, the headline's
effect per US$ m (undiscounted and present values), the spread beside the interval, and the
answer to "which spending policy creates most jobs per US$ m" against each policy's parent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gzsim import Result, load_scenario
from gzsim.analysis.compare import compare_results, compare_with_parents
from gzsim.analysis.costs import LINES, TOTAL, policy_cost
from gzsim.analysis.tables import render_text
from gzsim.indicators import INDICATORS, JOBS
from gzsim.model import simulate_one
from gzsim.model.fiscal import PUBLIC_COST_LINES
from tests.conftest import SCENARIOS

SHORT = ["time.end=2019-12"]
SPENDING = ["policy_tax_incentives", "policy_land_push", "policy_land_push_scarce",
            "policy_infrastructure_push", "policy_housing_push", "policy_training"]


def test_public_cost_is_the_sum_of_its_lines_and_revenue_is_apart():
    sc = load_scenario(SCENARIOS / "policy_training.yaml", overrides=[
        *SHORT, "policies.training_programme.levers.training_places_per_year=6000"])
    sc = sc.model_copy(update={"policies": [*sc.policies, load_scenario(
        SCENARIOS / "policy_tax_incentives.yaml").policies[0]]})
    a = simulate_one(sc, 3, 0)
    lines = sum(a[line] for line in PUBLIC_COST_LINES)
    np.testing.assert_allclose(a[TOTAL], lines, rtol=1e-12)
    assert set(LINES) == set(PUBLIC_COST_LINES)  # the analysis names every model line
    assert a["training_spending_usd_m"].sum() > 0 and a["fiscal_cost_usd_m"].sum() > 0
    # taxes forgone are 30 % of the taxes due while the incentive runs; revenue the rest
    due = a["fiscal_cost_usd_m"] + a["tax_revenue_usd_m"]
    on = a["fiscal_cost_usd_m"] > 0
    np.testing.assert_allclose(a["fiscal_cost_usd_m"][on] / due[on], 0.3)
    assert INDICATORS[TOTAL].kind == "flow" and INDICATORS[TOTAL].unit == "US$ m/month"


def test_every_shipped_spending_policy_says_what_it_costs():
    for name in SPENDING:
        sc = load_scenario(SCENARIOS / f"{name}.yaml")
        pol = sc.policies[-1]
        assert pol.cost, name
        for lever, line in pol.cost.items():
            assert getattr(pol.levers, lever) is not None and line in PUBLIC_COST_LINES
    base = load_scenario(SCENARIOS / "base.yaml")
    assert base.fiscal.discount_rate_per_year > 0 and base.fiscal.training_usd_m_per_trainee > 0


def test_cost_naming_a_lever_the_policy_does_not_set_is_an_error(tmp_path):
    from gzsim.errors import ScenarioError

    p = tmp_path / "bad.yaml"
    p.write_text(f"extends: {SCENARIOS / 'policy_land_push.yaml'}\nname: bad\npolicies:\n"
                 "  - name: x\n    start: 2016-01\n    levers: {land_budget_multiplier: 2}\n"
                 "    cost: {training_places_per_year: training_spending_usd_m}\n")
    with pytest.raises(ScenarioError, match="does not set"):
        load_scenario(p)


def series(values: dict[str, list[float]], reps: int = 3, months: int = 24) -> pd.DataFrame:
    dates = pd.date_range("2015-01-01", periods=months, freq="MS")
    return pd.concat([pd.DataFrame({"replication": k, "date": dates,
                                    **{c: v for c, v in values.items()}}) for k in range(reps)],
                     ignore_index=True)


def test_policy_cost_lines_present_value_and_revenue():
    zero = [0.0] * 24
    base = series({TOTAL: zero, "land_spending_usd_m": zero, "tax_revenue_usd_m": zero})
    extra = [0.0] * 12 + [10.0] * 12  # 10 US$ m a month from 2016-01
    other = series({TOTAL: extra, "land_spending_usd_m": extra,
                    "tax_revenue_usd_m": [1.0] * 24})
    pol = [{"name": "land", "start": "2016-01", "cost": {"land_budget_multiplier":
                                                         "land_spending_usd_m"}}]
    c = policy_cost(base, other, [0, 1, 2], [2015, 2016], pol, 0.08, "2015-01")
    assert c.total[2016].tolist() == [120.0] * 3 and c.total[2015].tolist() == [0.0] * 3
    pv = sum(10 * 1.08 ** (-m / 12) for m in range(12))  # discounted to the policy's start
    assert c.pv[2016].iloc[0] == pytest.approx(pv)
    assert c.lines["land_spending_usd_m"][2016].iloc[0] == 120.0
    assert c.declared == {"land_spending_usd_m": "land_budget_multiplier"}
    assert c.revenue[2016].iloc[0] == 24.0  # a separate line, not netted from the cost


def test_headline_spread_is_the_percentiles_of_the_pairs():
    dates = pd.date_range("2015-01-01", periods=24, freq="MS")
    extra = [10.0, 20.0, 30.0, 40.0, 50.0]

    def res(name, add, pols=()):
        frames = [pd.DataFrame({"replication": k, "date": dates,
                                "employment": [100.0 + (add[k] if add else 0)] * 24,
                                TOTAL: [1.0 if add else 0.0] * 24}) for k in range(5)]
        return Result(pd.concat(frames, ignore_index=True),
                      {"scenario": {"name": name, "policies": list(pols),
                                    "time": {"milestone_years": [2015, 2016]}},
                       "replications": 5})

    pol = {"name": "p", "indicators": ["employment"], "start": "2015-01",
           "cost": {"x": TOTAL}}
    cmp = compare_results({"base": res("base", None), "p": res("p", extra, [pol])})
    h = cmp.headline().set_index("year")
    assert h.loc[2016, "diff_p05"] == pytest.approx(np.percentile(extra, 5))
    assert h.loc[2016, "diff_p95"] == pytest.approx(np.percentile(extra, 95))
    # cost 24 US$ m by 2016: per US$ m spread = spread of extra_k / 24
    assert h.loc[2016, "per_usd_m_p95"] == pytest.approx(np.percentile(extra, 95) / 24)
    assert h.loc[2016, "cost_usd_m"] == 24.0 and h.loc[2016, "per_usd_m"] == 30.0 / 24
    text = render_text(cmp.tables())
    flat = " ".join(text.split())
    assert "how sure is the average" in flat and "how much could it vary" in flat
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.fixture(scope="module")
def answer():
    scs = [load_scenario(SCENARIOS / f"{n}.yaml", overrides=SHORT)
           for n in ("policy_tax_incentives", "policy_land_push_scarce", "policy_training")]
    return compare_with_parents(scs, replications=3, seed=4, years=[2019], workers=1)


def test_each_policy_is_compared_with_its_parent_and_gets_a_cost(answer):
    h = answer.headline()
    assert dict(zip(h["scenario"], h["base"], strict=False)) == {
        "policy_tax_incentives": "base", "policy_land_push_scarce": "land_scarce",
        "policy_training": "base"}
    jobs = h[h["indicator"] == JOBS].set_index("scenario")
    assert (jobs["cost_usd_m"] > 0).all()  # every spending policy costs public money
    assert np.isfinite(jobs["per_usd_m"]).all() and np.isfinite(jobs["per_usd_m_pv"]).all()
    assert (jobs["cost_pv_usd_m"] < jobs["cost_usd_m"]).all()  # discounted at 8 %
    assert (jobs["diff_p05"] <= jobs["diff_p95"]).all()
    assert jobs.loc["policy_training", "not_modelled"].startswith("The model has no skills")


def test_the_printed_answer_ranks_policies_with_cost_bands_and_caveats(answer):
    text = render_text(answer.tables())
    flat = " ".join(text.split())
    assert "Employment (people, district) in 2019 per US$ m of extra public money" in flat
    assert "policy_land_push_scarce vs land_scarce" in flat
    assert "Public cost to 2019, US$ m" in flat and "Extra taxes due" in flat
    assert "Not in the model: The model has no skills" in flat
    assert "no mechanism (note)" in flat  # training: no near-zero figure read as an answer
    assert max(len(line) for line in text.splitlines()) <= 80


def test_indicators_say_which_to_quote_for_jobs(cli):
    r = cli("indicators")
    assert r.returncode == 0
    assert "Which to quote for jobs: employment" in r.stdout
    assert "employment  [people, stock]  <- quote this for jobs" in r.stdout
    assert INDICATORS[JOBS].geography == "district"
    csv = cli("indicators", "-f", "csv").stdout.splitlines()
    assert csv[0].endswith(",quote_for") and any(line.endswith(",jobs") for line in csv)
