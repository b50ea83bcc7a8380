"""Sweeps end to end: same data whatever runs them, failures as data, crash-safe resume.

The issue's required tests:
- the same experiment serially, on a 2-worker LocalCluster and as 2 shards gives identical data;
- a driver killed (SIGKILL) part-way, then resumed, gives exactly the data of an uninterrupted run;
- a design point that makes the model raise is recorded as failed, every other run completes;
- a worker process killed mid-sweep: the sweep still completes with identical data.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest

from gzsim.execution import run_replications
from gzsim.execution.standin import standin_model
from gzsim.experiments import load_experiment, read_sweep, run_sweep
from gzsim.experiments.store import StoreError
from tests.conftest import assert_same_sweep

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "scenarios" / "experiments"
BASE = REPO / "scenarios" / "base.yaml"
FF = EXAMPLES / "full_factorial.yaml"


def assert_same(a: Path, b: Path) -> None:
    assert_same_sweep(a, b)


def write_exp(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).replace("BASE", str(BASE)))
    return p


@pytest.fixture(scope="module")
def ff_serial(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ff") / "serial"
    res = run_sweep(FF, out, backend="serial", progress=False)
    assert res.stats["runs_this_session"] == 12 and res.stats["failed_this_session"] == 0
    return out


# --- identical data, whatever runs it ----------------------------------------------------------

def test_serial_sweep_contents(ff_serial):
    sw = read_sweep(ff_serial)
    runs = sw.runs
    assert len(runs) == 12 and (runs["status"] == "ok").all() and sw.complete
    assert runs["run_id"].tolist() == list(range(12))
    assert runs["replication"].tolist() == [0, 1] * 6
    assert (runs["seed_entropy"] == 20170716).all()
    assert {"investment.growth_rate_per_year", "investment.realisation_share",
            "jobs_created_2017", "employment_2020", "error", "wall_time_s"} <= set(runs.columns)
    s = sw.series
    assert len(s) == 12 * 228 and s.groupby("run_id").size().eq(228).all()
    assert s["date"].iloc[0] == pd.Timestamp("2012-01-01")
    # the scalar outcome is the annual sum of the series
    j = s[s["date"].dt.year == 2017].groupby("run_id")["jobs_created"].sum()
    np.testing.assert_allclose(j.to_numpy(), runs["jobs_created_2017"].to_numpy())
    # common random numbers: replication k gets the same seed at every point
    from gzsim.model import simulate_one

    sc = load_experiment(FF).base_scenario
    point = runs[runs["run_id"] == 7].iloc[0]  # point 3 = (0.11, 0.7), replication 1
    # the point's own values: the grid is np.linspace(0.05, 0.17, 3), whose middle level is
    # 0.11000000000000001, not the literal 0.11
    growth, share = point["investment.growth_rate_per_year"], point["investment.realisation_share"]
    assert growth == pytest.approx(0.11) and share == 0.7
    ref = simulate_one(sc.model_copy(update={"investment": sc.investment.model_copy(update={
        "growth_rate_per_year": growth, "realisation_share": share})}), 20170716, 1)
    got = s[s["run_id"] == 7]
    np.testing.assert_array_equal(got["employment"].to_numpy(), ref["employment"])
    ds = sw.to_xarray()
    assert dict(ds.sizes) == {"point": 6, "replication": 2, "date": 228}
    assert ds["employment"].attrs["units"] == "people"
    assert sw.to_xarray("scalars")["jobs_created_2017"].shape == (6, 2)


def test_manifest_has_provenance(ff_serial):
    m = json.loads((ff_serial / "manifest.json").read_text())
    assert m["seeds"]["root_seed"] == 20170716
    assert m["design"]["kind"] == "full_factorial" and m["design"]["n_points"] == 6
    assert m["design"]["problem"]["names"] == ["investment.growth_rate_per_year",
                                               "investment.realisation_share"]
    assert m["runs"]["n_runs"] == 12
    assert m["experiment"]["base_scenario"]["name"] == "base"
    assert "growth_rate_per_year" in m["experiment_yaml"]
    for lib in ("gzsim", "numpy", "simpy", "pandas", "pyarrow", "SALib", "dask"):
        assert lib in m["versions"]
    assert m["model"] == "gzsim.model.simulate_one"


def test_layout_is_plain_parquet(ff_serial):
    """DuckDB / polars / pyarrow read the folder as is (here: pyarrow.dataset)."""
    series = pads.dataset(ff_serial / "series", format="parquet").to_table().to_pandas()
    assert len(series) == 12 * 228
    runs = pd.read_parquet(ff_serial / "runs.parquet")
    assert len(runs) == 12 and set(runs["status"]) == {"ok"}
    assert not list(ff_serial.rglob("*.tmp"))
    duckdb = pytest.importorskip("duckdb")
    query = f"SELECT count(*) FROM '{ff_serial}/series/*.parquet'"
    n = duckdb.connect().execute(query).fetchall()[0][0]
    assert n == 12 * 228


def test_local_cluster_and_processes_give_identical_data(ff_serial, tmp_path):
    res = run_sweep(FF, tmp_path / "dask", backend="dask", workers=2, progress=False)
    assert res.stats["cluster"].startswith("LocalCluster (2 worker")
    assert len(res.stats["runs_per_worker"]) == 2
    assert_same(ff_serial, tmp_path / "dask")
    run_sweep(FF, tmp_path / "proc", backend="processes", workers=2, progress=False)
    assert_same(ff_serial, tmp_path / "proc")


def test_two_shards_into_one_folder_give_identical_data(ff_serial, tmp_path):
    out = tmp_path / "shards"
    errors = []

    def shard(i):
        try:
            run_sweep(FF, out, backend="serial", shard=f"{i}/2", progress=False)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert_same(ff_serial, out)
    assert len(list((out / "sessions").glob("*.json"))) == 2


def test_rerun_computes_nothing_and_other_experiment_is_refused(ff_serial, tmp_path):
    res = run_sweep(FF, ff_serial, backend="serial", progress=False)
    assert res.stats["runs_this_session"] == 0 and res.stats["runs_done_before"] == 12
    with pytest.raises(StoreError, match="holds another experiment"):
        run_sweep(EXAMPLES / "lhs.yaml", ff_serial, backend="serial", progress=False)
    with pytest.raises(StoreError, match="not a gzsim sweep folder"):
        (tmp_path / "x").mkdir()
        (tmp_path / "x" / "notes.txt").write_text("mine")
        run_sweep(FF, tmp_path / "x", backend="serial", progress=False)


# --- failures are data --------------------------------------------------------------------------

def test_model_exception_is_recorded_and_the_sweep_goes_on(tmp_path):
    fn = functools.partial(standin_model, fail_above_realisation=0.65)
    res = run_sweep(FF, tmp_path / "f", backend="processes", workers=2, progress=False,
                    run_fn=fn)
    assert res.stats["failed_this_session"] == 6
    sw = read_sweep(tmp_path / "f")
    bad = sw.runs["investment.realisation_share"] > 0.65
    assert (sw.runs.loc[bad, "status"] == "failed").all()
    assert (sw.runs.loc[~bad, "status"] == "ok").all()
    assert sw.runs.loc[bad, "error"].str.contains(
        "ValueError: stand-in model refuses realisation_share=0.7").all()
    assert sw.runs.loc[bad, "traceback"].str.contains("standin.py").all()
    assert sw.runs.loc[bad, "jobs_created_2017"].isna().all()
    assert set(sw.series["run_id"]) == set(sw.runs.loc[~bad, "run_id"])
    assert len(sw.failures) == 6 and sw.complete  # failed runs are done, not missing


def test_invalid_point_is_refused_before_any_run(tmp_path):
    """Issue 15: every point's scenario is validated first; the first invalid one is refused."""
    from gzsim.errors import ScenarioError

    p = write_exp(tmp_path, """\
        name: invalid_point
        base: BASE
        set: {time.end: 2013-12}
        factors:
          investment.realisation_share: {levels: [0.6, 1.5]}
        design: {kind: full_factorial}
        outcomes: series
    """)
    with pytest.raises(ScenarioError) as e:
        run_sweep(p, tmp_path / "out", backend="serial", progress=False)
    assert "design point 1 (investment.realisation_share=1.5)" in str(e.value)
    assert "less than or equal to 1" in str(e.value)
    assert not (tmp_path / "out" / "runs").exists()


def test_worker_process_that_dies_is_isolated_and_recorded(tmp_path):
    """A run that kills its worker process: retried, isolated, recorded; the others complete."""
    fn = functools.partial(standin_model, exit_above_realisation=0.65)
    res = run_sweep(FF, tmp_path / "x", backend="processes", workers=2, progress=False,
                    run_fn=fn, max_retries=1)
    runs = read_sweep(tmp_path / "x").runs
    bad = runs["investment.realisation_share"] > 0.65
    assert (runs.loc[~bad, "status"] == "ok").all()
    assert (runs.loc[bad, "status"] == "failed").all()
    assert runs.loc[bad, "error"].str.contains("worker lost").all()
    assert res.stats["lost_runs"] == 6


# --- crashes ------------------------------------------------------------------------------------

DRIVER = """
import functools, sys
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model
run_sweep(sys.argv[1], sys.argv[2], backend=sys.argv[3], workers=2, progress=False,
          run_fn=functools.partial(standin_model, sleep_s=0.01), flush_seconds=0.0,
          target_task_seconds=0.05)
"""

MC_TEXT = """\
    name: crash
    base: BASE
    seed: 5
    replications: 2
    factors:
      investment.growth_rate_per_year: {range: [0.05, 0.15]}
      jobs.indirect_jobs_per_direct_job: {distribution: {name: lognorm, s: 0.3, scale: 0.5}}
    design: {kind: monte_carlo, samples: 120}
    outcomes:
      series: true
      scalars: [{name: jobs_2017, indicator: jobs_created, year: 2017}]
"""


def test_driver_killed_then_resumed_gives_exactly_the_uninterrupted_data(tmp_path):
    exp = write_exp(tmp_path, MC_TEXT)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(exp), str(out), "processes"],
                            cwd=REPO, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if len(list((out / "runs").glob("part-*.parquet"))) >= 3:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes
    finally:
        proc.wait(timeout=30)
    before = read_sweep(out)
    n_before = int((before.runs["status"] == "ok").sum())
    assert 0 < n_before < 240, "the driver must die part-way"

    fn = functools.partial(standin_model, sleep_s=0.01)
    res = run_sweep(exp, out, backend="processes", workers=2, progress=False, run_fn=fn)
    assert res.stats["runs_done_before"] == n_before
    assert res.stats["runs_this_session"] == 240 - n_before

    ref = tmp_path / "ref"
    run_sweep(exp, ref, backend="serial", progress=False, run_fn=fn, batch_size=40)
    assert_same(ref, out)
    # none duplicated in the raw files either (what DuckDB / polars see)
    raw_runs = pads.dataset(out / "runs", format="parquet").to_table().to_pandas()
    assert raw_runs["run_id"].is_unique and len(raw_runs) == 240
    raw_series = pads.dataset(out / "series", format="parquet").to_table().to_pandas()
    assert not raw_series.duplicated(["run_id", "date"]).any()
    assert len(raw_series) == 240 * 228


def test_uncommitted_part_is_ignored_then_removed(ff_serial, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(ff_serial, out)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    # a crash between writing a series part and committing it leaves this behind:
    orphan = out / "series" / "part-crashed-00000.parquet"
    shutil.copy(out / "series" / parts[0].name, orphan)
    (out / ".half.parquet.abc.tmp").write_bytes(b"PAR1 half")
    assert_same(ff_serial, out)  # readers ignore it
    run_sweep(FF, out, backend="serial", progress=False)
    assert not orphan.exists() and not (out / ".half.parquet.abc.tmp").exists()


def test_worker_killed_mid_sweep_still_completes_with_identical_data(tmp_path):
    import dask
    import distributed

    exp = write_exp(tmp_path, MC_TEXT.replace("samples: 120", "samples: 24"))
    fn = functools.partial(standin_model, sleep_s=0.04)
    ref = tmp_path / "ref"
    run_sweep(exp, ref, backend="serial", progress=False, run_fn=fn, batch_size=80)

    # allowed-failures=0: the scheduler gives up on a task at the first worker death, so
    # gzsim's own retry path (KilledWorker -> resubmit) is what completes the sweep
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        killed = []

        def kill_a_busy_worker(done, total, failed):
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

        res = run_sweep(exp, tmp_path / "dask", backend="dask", client=client,
                        progress=kill_a_busy_worker, run_fn=fn, target_task_seconds=0.3)
    assert killed
    assert res.stats["retries"] >= 1
    assert res.stats["failed_this_session"] == 0
    assert_same(ref, tmp_path / "dask")


# --- gzsim run goes through the same layer ------------------------------------------------------

@pytest.mark.parametrize("backend,workers", [("serial", 1), ("processes", 2)])
def test_run_replications_matches_simulate_one(base_scenario, backend, workers):
    from gzsim.model import simulate_one

    sc = base_scenario.model_copy(update={"time": base_scenario.time.model_copy(
        update={"end": "2015-12"})})
    seen = []
    outs = list(run_replications(sc, 5, 42, workers=workers, backend=backend,
                                 progress=lambda d, n: seen.append((d, n))))
    assert sorted(o.replication for o in outs) == list(range(5))
    assert seen[-1] == (5, 5)
    for o in outs:
        assert o.error is None
        ref = simulate_one(sc, 42, o.replication)
        assert o.arrays.keys() == ref.keys()
        for k in ref:
            np.testing.assert_array_equal(o.arrays[k], ref[k])


def test_run_replications_records_failures(base_scenario):
    fn = functools.partial(standin_model, fail_above_realisation=0.0)
    outs = list(run_replications(base_scenario, 3, 1, run_fn=fn))
    assert all(o.arrays is None and o.error.startswith("ValueError: stand-in") for o in outs)


def test_second_order_sobol_design_is_analysed_as_one(tmp_path):
    """The design's settings reach SALib: a second-order Saltelli sample is analysed as one."""
    from SALib.analyze import sobol

    from gzsim.analysis.sensitivity import sobol_indices

    p = write_exp(tmp_path, """\
        name: second_order
        base: BASE
        factors:
          investment.growth_rate_per_year: {range: [0.05, 0.17]}
          investment.realisation_share: {range: [0.08, 0.49]}
        design: {kind: sobol, samples: 8, second_order: true}
        outcomes:
          series: false
          scalars: [{name: inv, indicator: investment_usd_m, year: 2013}]
    """)
    run_sweep(p, tmp_path / "so", backend="serial", progress=False,
              run_fn=functools.partial(standin_model))
    sw = read_sweep(tmp_path / "so")
    assert len(sw.runs) == 8 * (2 * 2 + 2) and sw.manifest["design"]["params"]["second_order"]
    y = sw.scalars.sort_values("point")["inv"].to_numpy()
    ref = sobol.analyze(sw.problem, y, calc_second_order=True, seed=0)
    got = sobol_indices(sw, "inv").set_index("factor").loc[sw.problem["names"]]
    np.testing.assert_allclose(got["S1"], ref["S1"])
    np.testing.assert_allclose(got["ST"], ref["ST"])
