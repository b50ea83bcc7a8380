"""A run streamed to its folder (`gzsim run`, ``simulate(..., out=...)``): flat memory, same files.

The driver must hold only a window of replications, never all of them (issue 25: `gzsim run
-n 2000` peaked at 407 MB because every series was kept until the end), and the streamed
folder must equal what the in-memory :class:`Result` saves for the same seed. The same holds
for the entity event log of `gzsim run --events` (about 11,000 rows per base replication). The
memory figures themselves are measured by ``benchmarks/bench_memory.py`` (``--events``).
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
from gzsim.model import EVENTS_KEY
from gzsim.model.eventlog import EventLog
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


LOGS_ALIVE = [0]  # replications whose event logs (as the model returned them) are alive
LOGS_PEAK = [0]


def _log_freed() -> None:
    LOGS_ALIVE[0] -= 1


def logging_model(scenario, root_seed: int, replication: int, *, fail_every: int = 0,
                  probe: bool = False) -> dict:
    """The stand-in model with an entity event log of a few events drawn from its replication;
    ``fail_every``: replications k with k % fail_every == 1 raise; ``probe``: count the logs the
    driver still holds (as :func:`probed_model` counts arrays)."""
    if fail_every and replication % fail_every == 1:
        raise ValueError(f"replication {replication} refuses")
    out = dict(standin_model(scenario, root_seed, replication))
    rng = np.random.default_rng(replication)
    log = EventLog()
    for i in range(int(rng.integers(0, 6))):  # (some logs are empty)
        log.add(float(rng.uniform(0, scenario.time.n_months)), ["project", "lot"][i % 2], i,
                "signed" if i % 3 else f"event_{replication % 4}",
                None if i % 2 else f"sector_{replication % 3}", float(i), None, 0.5 * i)
    out[EVENTS_KEY] = log.payload()
    if probe:
        LOGS_PEAK[0] = max(LOGS_PEAK[0], LOGS_ALIVE[0])
        LOGS_ALIVE[0] += 1
        weakref.finalize(out[EVENTS_KEY], _log_freed)
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


@pytest.mark.parametrize("model", [standin_model, logging_model])
def test_an_interrupted_streamed_run_leaves_no_folder(scenario, tmp_path, monkeypatch, model):
    """A replication loop stopped midway (here: an error outside the model) leaves the target
    as it was: no half-written series.parquet or events.parquet."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 8)  # (some row groups written already)
    calls = []

    def stop_midway(sc, root, k):
        calls.append(k)
        if len(calls) > 30:
            raise KeyboardInterrupt
        return model(sc, root, k)

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


def test_a_streamed_run_holds_a_window_of_event_logs_not_all(scenario, tmp_path, monkeypatch):
    """Serial: at most a window of replications' event logs alive at once when streaming (each
    batch becomes a row group of events.parquet, then is dropped); all of them when the Result
    keeps them (which proves the probe). The old stream kept every log until the end."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 8)
    n = 240
    fn = functools.partial(logging_model, probe=True)
    LOGS_ALIVE[0] = LOGS_PEAK[0] = 0
    kept = simulate(scenario, n, seed=4, run_fn=fn, workers=1)
    assert LOGS_PEAK[0] >= n - 1  # the in-memory Result holds every log
    kept_replications = set(kept.events["replication"])
    del kept
    LOGS_ALIVE[0] = LOGS_PEAK[0] = 0
    res = simulate(scenario, n, seed=4, run_fn=fn, workers=1, out=tmp_path / "run")
    assert LOGS_PEAK[0] <= 40, f"{LOGS_PEAK[0]} replications' logs alive at once when streaming"
    assert LOGS_ALIVE[0] <= 8  # (and the driver keeps none of them afterwards)
    assert pq.ParquetFile(tmp_path / "run" / "events.parquet").metadata.num_row_groups == n // 8
    assert res.events["replication"].is_monotonic_increasing  # in replication order
    assert set(res.events["replication"]) == set(kept_replications)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_streamed_event_log_equals_the_in_memory_one(scenario, tmp_path, monkeypatch,
                                                       workers):
    """The streamed events.parquet, read back, is the in-memory Result's event table for the
    same seed (rows, order, dtypes, categories), over several row groups, with failures;
    read lazily by the streamed Result and by read_results; copied by Result.save."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 3)
    fn = functools.partial(logging_model, fail_every=4)
    ref = simulate(scenario, 17, seed=9, run_fn=fn, workers=workers)
    got = simulate(scenario, 17, seed=9, run_fn=fn, workers=workers, out=tmp_path / "run")
    assert got._events == tmp_path / "run" / "events.parquet"  # not read yet
    assert pq.ParquetFile(got._events).metadata.num_row_groups == 5  # 13 replications, 3 each
    logged = set(ref.events["replication"])  # (a replication with an empty log has no rows)
    assert logged <= set(range(17)) - {1, 5, 9, 13} and len(logged) >= 8
    pd.testing.assert_frame_equal(got.events, ref.events)
    back = read_results(tmp_path / "run")
    pd.testing.assert_frame_equal(back.events, ref.events)
    back.save(tmp_path / "again")
    ref.save(tmp_path / "ref")
    for folder in ("again", "ref"):
        pd.testing.assert_frame_equal(read_results(tmp_path / folder).events, ref.events)


def test_the_streamed_event_log_of_the_model_equals_the_in_memory_one(scenario, tmp_path,
                                                                      monkeypatch):
    """The same with the model's own log (`gzsim run --events`): several row groups whose
    dictionaries differ, read back as one table with the in-memory categories."""
    monkeypatch.setattr(gzsim.run, "STREAM_BATCH", 2)
    ref = simulate(scenario, 5, seed=3, events=True, workers=1)
    got = simulate(scenario, 5, seed=3, events=True, workers=1, out=tmp_path / "run")
    assert pq.ParquetFile(tmp_path / "run" / "events.parquet").metadata.num_row_groups == 3
    assert len(ref.events) > 1000
    pd.testing.assert_frame_equal(got.events, ref.events)


def test_every_replication_failing_writes_no_event_log(scenario, tmp_path):
    out = tmp_path / "failed"
    with pytest.raises(AllRunsFailed) as e:
        simulate(scenario, 5, seed=1, run_fn=_always_fails, workers=1, out=out)
    assert e.value.result.events is None and not (out / "events.parquet").exists()
    assert read_results(out).events is None and (out / "failures.csv").exists()


def _always_fails(scenario, root_seed: int, replication: int) -> dict:
    raise ValueError("the stand-in refuses")


def test_a_damaged_event_log_is_refused_on_use_naming_the_file(scenario, tmp_path):
    """read_results reads events.parquet on first use of ``.events``; a truncated file is then
    a user error naming it (as the series are refused), never a pyarrow traceback."""
    from gzsim.errors import UserError

    out = tmp_path / "run"
    simulate(scenario, 3, seed=2, run_fn=logging_model, workers=1, out=out)
    data = (out / "events.parquet").read_bytes()
    (out / "events.parquet").write_bytes(data[: len(data) // 2])
    back = read_results(out)  # the series are read; the event log not yet
    with pytest.raises(UserError) as e:
        back.events  # noqa: B018 - the read is the test
    assert str(out / "events.parquet") in str(e.value) and "event log" in str(e.value)
