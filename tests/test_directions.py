"""Direction suite: every lever, pushed its way, moves its targets the documented way or not at all.

Metamorphic tests on common random numbers (same seed and replications with and without the
lever), at every milestone year, on the base and on a second scenario. The expected directions
come from ONE table, docs/directions.yaml, which also generates the table in docs/model.md
(tools/direction_table.py); the measurements are made once per session.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from gzsim.scenario.schema import Levers
from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("direction_table",
                                               REPO / "tools" / "direction_table.py")
dt = importlib.util.module_from_spec(_spec)
sys.modules["direction_table"] = dt
_spec.loader.exec_module(dt)

TABLE = dt.load_table()
ROWS = dt.rows(TABLE)
# Levers with no single documented direction, and why.
NO_DIRECTION = {
    "sector_weight_multipliers": "reallocates arrivals between sectors: no single direction",
    "investment_rate_multiplier": "an exogenous shock to arrivals (the slowdown scenario), "
                                  "not a policy push",
}
LEVER_FIELDS = {"infrastructure_budget": "infrastructure_budget_multiplier",
                "training": "training_places_per_year",
                "housing_budget": "housing_budget_multiplier",
                "tax_incentives": "tax_incentive_share",
                "screening": "max_pollution_class",
                "serviced_land": "land_budget_multiplier"}


@pytest.fixture(scope="module")
def measured():
    return dt.measure(TABLE)


def _param(row):
    return pytest.param(row, id=f"{row.lever}-{row.scenario}-{row.indicator}")


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_lever_moves_its_targets_the_documented_way(measured, row):
    bad = dt.violations(row, measured[row], TABLE["settings"]["fail_confidence"])
    assert not bad, f"{row.lever} on {row.scenario}, {row.indicator}: " + "; ".join(bad)


def test_people_levers_have_an_effect_where_they_bind(measured):
    """Not only 'unchanged': where the housing budget binds, the push moves people and poverty."""
    for ind, sign in (("people_resettled", 1), ("poor_people", -1)):
        row = next(r for r in ROWS if (r.lever, r.scenario, r.indicator)
                   == ("housing_budget", "tight_housing", ind))
        effects = measured[row]
        assert any(min(sign * d for d in e.diffs) > 0 for e in effects), ind


def test_every_policy_lever_has_a_documented_direction():
    documented = {LEVER_FIELDS[lv["name"]] for lv in TABLE["levers"]}
    assert documented | set(NO_DIRECTION) == set(Levers.model_fields)
    for lv in TABLE["levers"]:
        assert set(lv["levers"]) == {LEVER_FIELDS[lv["name"]]}
        assert len(lv["scenarios"]) >= 2, lv["name"]


def test_the_check_catches_a_wrong_direction():
    row = dt.Row("x", "", "base", "poor_people", "down", pathwise=False)
    up = [dt.Effect(2020, (10.0, 12.0, 11.0), 1e6)]
    assert dt.violations(row, up, 0.95)
    flat = [dt.Effect(2020, (0.0, 0.0, 0.0), 1e6)]
    assert not dt.violations(row, flat, 0.95)
    noisy = [dt.Effect(2020, (5.0, -6.0, 0.5), 1e6)]  # not significantly wrong
    assert not dt.violations(row, noisy, 0.95)
    strict = dt.Row("x", "", "base", "poor_people", "down", pathwise=True)
    assert dt.violations(strict, noisy, 0.95)
    assert dt.violations(row, "no indicator 'x'", 0.95)


def test_direction_table_in_model_doc_is_current(measured):
    text = (REPO / "docs" / "model.md").read_text()
    assert dt.with_table(text, dt.render(TABLE, measured)) == text, \
        "run: python tools/direction_table.py"


def _table_at(values: dict[str, float]) -> dict:
    """The direction table with the base-derived scenarios run at these parameter values."""
    table = dt.load_table()
    for spec in table["scenarios"].values():
        if spec["file"] == "scenarios/base.yaml":
            spec["set"] = {**values, **(spec.get("set") or {})}
    return table


@pytest.mark.parametrize("draw", range(3))
def test_directions_hold_at_posterior_draws(draw):
    """Runs draw their parameters from the posterior, so the directions must hold there too.

    Three particles drawn with the posterior weights (a fixed stream), every row of the table.
    """
    import numpy as np

    from gzsim.calibration.posterior import read_posterior
    from gzsim.calibration.problem import typed_values
    from gzsim.scenario.loader import resolve_scenario_data

    post = read_posterior(REPO / "calibration" / "posterior.parquet")
    rng = np.random.default_rng(np.random.SeedSequence(2017, spawn_key=(draw,)))
    data, _ = resolve_scenario_data(REPO / "scenarios" / "base.yaml")
    values = typed_values(data, post.values(post.draw(rng)))
    table = _table_at(values)
    fail = TABLE["settings"]["fail_confidence"]
    bad = [f"{r.lever}/{r.scenario}/{r.indicator}: " + "; ".join(v)
           for r, e in dt.measure(table).items() if (v := dt.violations(r, e, fail))]
    assert not bad, f"at posterior particle {values}: " + " | ".join(bad)
