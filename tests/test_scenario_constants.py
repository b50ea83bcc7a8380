"""Replications that share a scenario object share its run-independent paths; same numbers.

The model computes paths that depend only on the scenario (levers, budgets, costs, earmarks,
quotas) once per scenario object (:mod:`gzsim.model.constants`). Sharing must never change a
result: a replication run after others of the same object equals the same replication run on
a fresh, equal scenario object, with and without policies.
"""

from __future__ import annotations

import numpy as np
import pytest

from gzsim import load_scenario
from gzsim.model import constants, simulate_one
from gzsim.scenario.schema import Scenario


def fresh(sc: Scenario) -> Scenario:
    """An equal scenario that is a different object (nothing shared with ``sc``)."""
    copy = Scenario.model_validate(sc.model_dump())
    assert copy is not sc and copy == sc
    return copy


@pytest.mark.parametrize("path", ["scenarios/base.yaml", "scenarios/policy_tax_incentives.yaml",
                                  "scenarios/policy_infrastructure_push.yaml"])
def test_shared_paths_do_not_change_results(repo, path):
    sc = load_scenario(repo / path)
    shared = [simulate_one(sc, 5, k) for k in range(3)]  # the 2nd and 3rd reuse the 1st's paths
    assert constants.shared(sc), "the replications did not share anything"
    for k, arrays in enumerate(shared):
        alone = simulate_one(fresh(sc), 5, k)
        assert arrays.keys() == alone.keys()
        for name in arrays:
            np.testing.assert_array_equal(arrays[name], alone[name], err_msg=f"{path} {name}")


def test_cache_keeps_only_recent_scenarios(base_scenario):
    copies = [fresh(base_scenario) for _ in range(constants.KEEP + 3)]
    for sc in copies:
        constants.once(sc, "probe", lambda sc=sc: id(sc))
    assert len(constants._RECENT) <= constants.KEEP
    assert constants.once(copies[-1], "probe", lambda: None) == id(copies[-1])  # still kept
    assert constants.once(copies[0], "probe", lambda: "new") == "new"  # forgotten, recomputed
