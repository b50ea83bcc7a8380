"""Assumptions carried, not hidden: parameters no figure pins are sampled in comparisons from
their documented ranges, paired across scenarios (the same draw for replication k), and the
headline says how much of each effect's spread each one explains."""

from __future__ import annotations

import numpy as np
import pytest

from gzsim import load_scenario
from gzsim.analysis.compare import compare_with_parents
from gzsim.analysis.spread import variance_shares
from gzsim.assumptions import plan_assumptions, read_assumptions
from gzsim.errors import InputError
from tests.conftest import SCENARIOS

SHORT = ["time.end=2019-12"]


def test_the_shipped_assumptions_are_documented_ranges_of_uncalibrated_parameters():
    import pandas as pd

    found = read_assumptions(SCENARIOS / "assumptions.yaml")
    paths = [a.path for a in found]
    assert "attractiveness.incentive_elasticity" in paths and "attractiveness.reach_share" \
        in paths
    calibrated = set(pd.read_csv(SCENARIOS.parent / "calibration" / "parameters.csv")["path"])
    assert not calibrated & set(paths)  # the posterior already carries those
    base = load_scenario(SCENARIOS / "base.yaml")
    for a in found:
        assert a.low < a.high and a.why
        node = base
        for part in a.path.split("."):
            node = getattr(node, part)
        assert a.low <= node <= a.high  # the base's own value lies in its range


def test_draws_are_paired_per_replication_and_within_range():
    tax = load_scenario(SCENARIOS / "policy_tax_incentives.yaml", overrides=SHORT)
    base = load_scenario(SCENARIOS / "base.yaml", overrides=SHORT)
    a, b = plan_assumptions(tax, 5, 7, "sampled"), plan_assumptions(base, 3, 7, "sampled")
    assert a.values[:3] == b.values  # same root and replication: same values, whatever n
    assert a.values[0] != a.values[1]
    for v in a.values:
        for x in a.assumptions:
            assert x.low <= v[x.path] <= x.high
    assert plan_assumptions(tax, 5, 8, "sampled").values != a.values  # another root seed
    assert plan_assumptions(tax, 5, 7, "fixed") is None


def test_a_value_set_on_the_command_line_is_kept():
    sc = load_scenario(SCENARIOS / "base.yaml",
                       overrides=[*SHORT, "attractiveness.incentive_elasticity=0.7"])
    plan = plan_assumptions(sc, 2, 1, "sampled")
    assert "attractiveness.incentive_elasticity" in plan.kept
    assert all("attractiveness.incentive_elasticity" not in v for v in plan.values)


def test_a_malformed_range_is_a_located_error(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("assumptions:\n  x.y:\n    range: [2, 1]\n")
    with pytest.raises(InputError) as e:
        read_assumptions(p)
    assert e.value.problems[0].line == 3 and e.value.problems[0].path == "assumptions.x.y.range"


def test_variance_shares_find_what_drives_an_effect():
    rng = np.random.default_rng(0)
    x, z = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    effect = 10 * x + rng.normal(0, 1, 200)
    s = variance_shares(effect, {"x": x, "z": z})
    assert s["x"] > 0.8 and s["z"] < 0.05
    assert np.isnan(variance_shares(np.ones(5), {"x": x[:5]})["x"])


def test_compare_samples_assumptions_by_default_and_fixed_turns_it_off():
    tax = load_scenario(SCENARIOS / "policy_tax_incentives.yaml", overrides=SHORT)
    cmp = compare_with_parents([tax], replications=4, seed=2, years=[2019], workers=1)
    ua = cmp.results["base"].manifest["uncertainty"]["assumptions"]
    ub = cmp.results["policy_tax_incentives"].manifest["uncertainty"]["assumptions"]
    assert ua["draws"] == ub["draws"]  # paired: the same draw on both sides
    h = cmp.headline()
    row = h[(h["indicator"] == "employment")].iloc[0]
    assert "incentive elasticity" in row["assumption_shares"]
    from gzsim.analysis.tables import render_text

    flat = " ".join(render_text(cmp.tables()).split())
    assert "explained by each sampled assumption" in flat
    fixed = compare_with_parents([tax], replications=4, seed=2, years=[2019], workers=1,
                                 assumptions="fixed")
    assert "assumptions" not in fixed.results["base"].manifest["uncertainty"]
    assert (fixed.headline()["assumption_shares"] == "").all()
