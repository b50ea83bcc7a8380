"""Failures are data: a `gzsim run` whose every replication fails still writes its folder.

The folder holds ``failures.csv`` (one row per failed replication, with its error) and
``manifest.json``; the command exits 1 and names both files.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import gzsim.model
from gzsim.cli import main
from gzsim.failfast import ReplicationsFailed
from gzsim.run import simulate
from gzsim.scenario import load_scenario
from tests.conftest import BASE

SHORT = ["time.end=2013-12"]


def boom(scenario, root_seed, replication):
    raise ValueError("the model cannot run this scenario")


def test_api_failure_carries_the_failures_as_a_result(tmp_path):
    sc = load_scenario(BASE, overrides=SHORT)
    with pytest.raises(ReplicationsFailed) as e:
        simulate(sc, replications=5, seed=1, backend="serial", run_fn=boom)
    res = e.value.result
    assert res is not None and res.manifest["failed_replications"] == [0, 1, 2]
    res.save(tmp_path / "out", summary=[])
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert list(failures["replication"]) == [0, 1, 2]
    assert failures["error"].str.contains("cannot run this scenario").all()


def test_cli_run_whose_every_replication_fails_writes_its_folder_then_exits_1(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(gzsim.model, "simulate_one", boom)  # serial: this process runs it
    out = tmp_path / "failed"
    res = CliRunner().invoke(main, ["run", str(BASE), "-n", "2", "--workers", "1", "-q",
                                    "--uncertainty", "noise", "--out", str(out),
                                    *[a for s in SHORT for a in ("--set", s)]])
    assert res.exit_code == 1, res.output
    assert "failures.csv" in res.output and "manifest.json" in res.output
    failures = pd.read_csv(out / "failures.csv")
    assert list(failures["replication"]) == [0, 1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed_replications"] == [0, 1] and manifest["replications"] == 2
