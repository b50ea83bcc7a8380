"""A run streamed to its folder (`gzsim run`, ``simulate(..., out=...)``): flat memory, same files.

The driver must hold only a window of replications, never all of them (issue 25: `gzsim run
-n 2000` peaked at 407 MB because every series was kept until the end), and the streamed
folder must equal what the in-memory :class:`Result` saves for the same seed. The memory
figures themselves are measured by ``benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gzsim.run
from gzsim.errors import AllRunsFailed
from gzsim.execution.standin import standin_model
from gzsim.results import read_results
from gzsim.run import simulate
from gzsim.scenario import load_scenario
from tests.conftest import BASE

ALIVE = [0]  # replications whose arrays (as the model returned them) are still alive
PEAK = [0]


def _freed() -> None:
    ALIVE[0] -= 1


def probed_model(scenario, root_seed: int, replication: int) -> dict[str, np.ndarray]:
    """The stand-in model, noting how many replications' arrays the driver still holds."""
    out = standin_model(scenario, root_seed, replication)
    PEAK[0] = max(PEAK[0], ALIVE[0])
    ALIVE[0] += 1
    weakref.finalize(out["employment"], _freed)
    return out


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(BASE, overrides=["time.end=2016-12",
                                              "time.milestone_years=[2014, 2016]"])


def test_a_streamed_run_holds_a_window_of_replications_not_all(scenario, tmp_path,
                                                              monkeypatch):
    """Serial (the model runs in the driver): at most a window of replications' arrays alive at
    once when streaming; all of them when the Result keeps them (which proves the probe)."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 8)
    n = 240
    ALIVE[0] = PEAK[0] = 0
    kept = simulate(scenario, n, seed=4, run_fn=probed_model, workers=1)
    assert PEAK[0] >= n - 1  # the in-memory Result holds every replication
    del kept
    ALIVE[0] = PEAK[0] = 0
    res = simulate(scenario, n, seed=4, run_fn=probed_model, workers=1, out=tmp_path / "run")
    assert PEAK[0] <= 40, f"{PEAK[0]} replications' arrays alive at once in a streamed run"
    assert res.replications == n and len(res.series) == n * scenario.time.n_months


@pytest.mark.parametrize("workers", [1, 2])
def test_a_streamed_folder_equals_the_saved_result(scenario, tmp_path, monkeypatch, workers):
    """Series (row for row, with their metadata), summary, manifest and failures are those of
    ``simulate(...).save(...)`` for the same seed, over several row groups, with failures."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 3)
    fn = functools.partial(standin_model, fail_above_realisation=0.6)
    sc = scenario.model_copy(update={"investment": scenario.investment.model_copy(
        update={"realisation_share": 0.5})})
    for case, s in (("ok", sc), ("mixed", scenario)):
        ref = simulate(s, 23, seed=9, run_fn=fn, workers=workers)
        ref.save(tmp_path / f"ref-{case}")
        got = simulate(s, 23, seed=9, run_fn=fn, workers=workers, out=tmp_path / case)
        a, b = (pq.read_table(p / "series.parquet") for p in (tmp_path / f"ref-{case}",
                                                                tmp_path / case))
        assert a.equals(b, check_metadata=True)
        assert (tmp_path / case / "summary.csv").read_bytes() == \
            (tmp_path / f"ref-{case}" / "summary.csv").read_bytes()
        assert got.summary_rows() == ref.summary_rows()
        assert got.summary_rows(years=[2015, 2016]) == ref.summary_rows(years=[2015, 2016])
        back = read_results(tmp_path / case)
        assert back.manifest["failed_replications"] == ref.manifest["failed_replications"]
        pd.testing.assert_frame_equal(got.series, ref.series, check_dtype=False)


def test_every_replication_failing_still_writes_the_streamed_folder(scenario, tmp_path):
    fn = functools.partial(standin_model, fail_above_realisation=0.0)
    out = tmp_path / "failed"
    with pytest.raises(AllRunsFailed) as e:
        simulate(scenario, 5, seed=1, run_fn=fn, workers=1, out=out)
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) == len(e.value.result.failures) >= 3
    back = read_results(out)
    assert back.series.empty and back.manifest["failed_replications"] == list(
        failures["replication"])


def test_an_interrupted_streamed_run_leaves_no_folder(scenario, tmp_path):
    """A replication loop stopped midway (here: an error outside the model) leaves the target
    as it was: no half-written series.parquet."""
    calls = []

    def stop_midway(sc, root, k):
        calls.append(k)
        if len(calls) > 30:
            raise KeyboardInterrupt
        return standin_model(sc, root, k)

    with pytest.raises(KeyboardInterrupt):
        simulate(scenario, 100, seed=1, run_fn=stop_midway, workers=1, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["no manifest", "dropped column", "retyped column",
                                    "dates as text"])
def test_a_results_folder_edited_by_hand_is_refused_naming_the_file(scenario, tmp_path,
                                                                     damage):
    """read_results refuses a folder whose manifest is gone or whose series lost a column the
    summary reports or changed a column's type: the message names the file, what is wrong
    and how to rebuild it; never a traceback, never NaN read as data."""
    from gzsim.errors import UserError

    out = tmp_path / "run"
    simulate(scenario, 3, seed=2, run_fn=standin_model, workers=1, out=out)
    read_results(out)  # intact: read
    series = pd.read_parquet(out / "series.parquet")
    if damage == "no manifest":
        (out / "manifest.json").unlink()
        file = out
    else:
        if damage == "dropped column":
            series = series.drop(columns=["employment"])
        elif damage == "retyped column":
            series["employment"] = series["employment"].astype(str)
        else:
            series["date"] = series["date"].astype(str)
        series.to_parquet(out / "series.parquet", index=False)
        file = out / "series.parquet"
    with pytest.raises(UserError) as e:
        read_results(out)
    msg = str(e.value)
    assert str(file) in msg and "rebuild it" in msg and "gzsim run" in msg, msg
    if damage != "no manifest":
        assert ("employment" if damage != "dates as text" else "date") in msg, msg
