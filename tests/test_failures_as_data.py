"""Failures are data: a run whose every replication fails still yields its failures.

``simulate`` raises, with the failures as a result the caller can save; `gzsim run` saves
them (``tests/test_validation.py::test_every_replication_failed_exits_1_with_a_complete_folder``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from gzsim.errors import AllRunsFailed
from gzsim.run import simulate
from gzsim.scenario import load_scenario
from tests.conftest import BASE

SHORT = ["time.end=2013-12"]


def boom(scenario, root_seed, replication):
    raise ValueError("the model cannot run this scenario")


def test_api_failure_carries_the_failures_as_a_result(tmp_path):
    sc = load_scenario(BASE, overrides=SHORT)
    with pytest.raises(AllRunsFailed) as e:
        simulate(sc, replications=5, seed=1, backend="serial", run_fn=boom)
    res = e.value.result
    failed = res.manifest["failed_replications"]  # the first 3 to complete: the run stopped
    assert len(failed) == 3 and set(failed) <= set(range(5))
    res.save(tmp_path / "out", summary=[])
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert list(failures["replication"]) == failed
    assert failures["error"].str.contains("cannot run this scenario").all()
