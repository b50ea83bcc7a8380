"""Artefacts are checked when opened: a posterior, a pyabc database, a sweep store.

Each damage is named with its file and what is wrong, with the command that rebuilds it; or,
for a sweep store, detected and recomputed by the next session. Values changed through the
Python API after validation are validated again where gzsim accepts a scenario.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gzsim import load_scenario, simulate
from gzsim.calibration.abc import _resume
from gzsim.errors import ScenarioError, ScenarioWarning, UserError
from gzsim.execution.standin import standin_model
from gzsim.experiments import read_sweep, run_sweep
from gzsim.io.posterior import read_posterior, write_posterior
from tests.conftest import BASE, SCENARIOS, assert_same_sweep

PATHS = ["investment.growth_rate_per_year", "investment.realisation_share"]


def posterior(tmp_path, weights, paths=PATHS, name="posterior.parquet"):
    n = len(weights)
    frame = pd.DataFrame({p: np.linspace(0.1, 0.2, n) for p in paths})
    frame["weight"], frame["distance"] = weights, np.ones(n)
    write_posterior(frame, {"note": "test"}, tmp_path / name)
    return tmp_path / name


def test_a_sound_posterior_reads(tmp_path):
    post = read_posterior(posterior(tmp_path, [0.2, 0.3, 0.5]))
    assert post.paths == PATHS and math.isclose(post.weights.sum(), 1.0)


@pytest.mark.parametrize(("weights", "fragment"), [
    ([0.5, float("nan"), 0.5], "NaN, missing or infinite"), ([0.5, 0.0, 0.5], "zero or negative"),
    ([0.5, -0.1, 0.6], "zero or negative"), ([], "no particles")])
def test_damaged_posterior_weights_are_named(tmp_path, weights, fragment):
    path = posterior(tmp_path, weights)
    with pytest.raises(UserError) as e:
        read_posterior(path)
    assert str(path) in str(e.value) and fragment in str(e.value)
    assert "gzsim calibrate" in str(e.value)


def test_a_foreign_or_corrupt_file_is_not_a_posterior(tmp_path):
    pq.write_table(pq.read_table(posterior(tmp_path, [1.0])).replace_schema_metadata({}),
                   tmp_path / "plain.parquet")
    with pytest.raises(UserError, match="not a gzsim posterior"):
        read_posterior(tmp_path / "plain.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 junk")
    with pytest.raises(UserError, match="not a readable posterior"):
        read_posterior(tmp_path / "junk.parquet")


def test_a_posterior_of_another_model_is_refused_or_said(tmp_path):
    other = posterior(tmp_path, [0.5, 0.5], paths=["not.a.parameter"], name="other.parquet")
    sc = load_scenario(BASE, overrides=["time.end=2013-12", f"run.posterior={other}"])
    with pytest.raises(UserError, match="none of the posterior's parameters"):
        simulate(sc, replications=1, backend="serial", uncertainty="posterior")
    path = posterior(tmp_path, [0.5, 0.5])
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    meta[b"gzsim"] = meta[b"gzsim"].replace(b'"model_source_sha256": "',
                                            b'"model_source_sha256": "0ther')
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.warns(ScenarioWarning, match="fitted to other model code"):
        read_posterior(path)


def test_a_corrupt_abc_db_is_named_and_an_unborn_one_starts_clean(tmp_path):
    db = tmp_path / "abc.db"
    db.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(UserError) as e:
        _resume(None, db, f"sqlite:///{db}", "fp")
    assert str(db) in str(e.value) and "--overwrite" in str(e.value)
    db.unlink()
    sqlite3.connect(db).close()  # killed while pyabc was creating it: no tables yet
    assert db.exists() and _resume(None, db, f"sqlite:///{db}", "fp") is None
    assert not db.exists()


FF = SCENARIOS / "experiments" / "full_factorial.yaml"


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    out = tmp_path_factory.mktemp("artefacts") / "ref"
    run_sweep(FF, out, backend="serial", progress=False, run_fn=standin_model, batch_size=2)
    return out


def test_a_column_dropped_from_one_part_file_is_detected_then_recomputed(ref, tmp_path):
    out = tmp_path / "store"
    shutil.copytree(ref, out)
    part = sorted((out / "runs").glob("part-*.parquet"))[1]
    pq.write_table(pq.read_table(part).drop(["jobs_created_2017"]), part)
    with pytest.warns(UserWarning, match="no column.*jobs_created_2017"):
        assert len(read_sweep(out).missing) == 2
    res = run_sweep(FF, out, backend="serial", progress=False, run_fn=standin_model)
    assert res.stats["runs_this_session"] == 2
    assert_same_sweep(ref, out)


def test_a_deleted_design_is_named_then_rebuilt_by_a_rerun(ref, tmp_path):
    out = tmp_path / "store"
    shutil.copytree(ref, out)
    (out / "design.parquet").unlink()
    with pytest.raises(UserError) as e:
        assert read_sweep(out).runs is None
    assert "design.parquet" in str(e.value) and "gzsim sweep" in str(e.value)
    res = run_sweep(FF, out, backend="serial", progress=False, run_fn=standin_model)
    assert res.stats["runs_this_session"] == 0
    assert_same_sweep(ref, out)


def test_values_changed_through_the_api_are_validated_with_the_field_named():
    sc = load_scenario(BASE, overrides=["time.end=2013-12"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = sc.model_copy(update={"investment": sc.investment.model_copy(
            update={"growth_rate_per_year": float("nan")})})
    with pytest.raises(ScenarioError, match="investment.growth_rate_per_year"):
        simulate(bad, replications=1, backend="serial")
    bad = sc.model_copy(update={"run": sc.run.model_copy(update={"replications": -1})})
    with pytest.raises(ScenarioError, match="run.replications"):
        simulate(bad, replications=1, backend="serial")
    with pytest.raises(Exception, match="frozen"):
        sc.investment.growth_rate_per_year = 0.5  # type: ignore[misc]
