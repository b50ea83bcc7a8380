"""The sweep store's integrity: what damage or a changed model does to a resume, and a full disk.

Each case is detected, then recomputed (the finished store equals an undamaged one) or refused
with a clear message.
"""

from __future__ import annotations

import errno
import functools
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from gzsim.execution.standin import standin_model
from gzsim.experiments import read_sweep, run_sweep
from gzsim.experiments.store import StoreError, SweepStore
from tests.conftest import REPO, SCENARIOS, assert_same_sweep

FF = SCENARIOS / "experiments" / "full_factorial.yaml"
FN = functools.partial(standin_model)


@pytest.fixture(scope="module")
def ref(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("integrity") / "ref"
    run_sweep(FF, out, backend="serial", progress=False, run_fn=FN, batch_size=2)
    return out


def copy(ref: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(ref, out)
    return out


def first_part(out: Path, folder: str) -> Path:
    return sorted((out / folder).glob("part-*.parquet"))[0]


def test_truncated_batch_file_is_detected_then_recomputed(ref, tmp_path):
    out = copy(ref, tmp_path)
    p = first_part(out, "runs")
    p.write_bytes(p.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable"):
        sw = read_sweep(out)
    assert len(sw.missing) == 2 and len(sw.series["run_id"].unique()) == 10
    res = run_sweep(FF, out, backend="serial", progress=False, run_fn=FN)
    assert res.stats["runs_this_session"] == 2
    assert_same_sweep(ref, out)


def test_deleted_series_file_is_detected_then_recomputed(ref, tmp_path):
    out = copy(ref, tmp_path)
    first_part(out, "series").unlink()
    with pytest.warns(UserWarning, match="series file .* is missing"):
        assert len(read_sweep(out).missing) == 2
    run_sweep(FF, out, backend="serial", progress=False, run_fn=FN)
    assert_same_sweep(ref, out)


SLOW_SHARD = """
import functools, sys
from gzsim.experiments import run_sweep
from gzsim.execution.standin import standin_model
run_sweep(sys.argv[1], sys.argv[2], backend="serial", shard="0/2", progress=False,
          run_fn=functools.partial(standin_model, sleep_s=0.3), batch_size=2)
"""


def test_the_same_shard_twice_at_once_is_refused(tmp_path):
    out = tmp_path / "twice"
    fn = functools.partial(standin_model, sleep_s=0.3)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SHARD, str(FF), str(out)], cwd=REPO,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "manifest.json").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        with pytest.raises(StoreError, match="already computing shard 0/2"):
            run_sweep(FF, out, backend="serial", shard="0/2", progress=False, run_fn=fn)
        # another shard may run at the same time
        run_sweep(FF, out, backend="serial", shard="1/2", progress=False, run_fn=fn,
                  batch_size=2)
    finally:
        assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()
    raw = pads.dataset(out / "runs", format="parquet").to_table().to_pandas()
    assert raw["run_id"].is_unique and len(raw) == 12
    assert read_sweep(out).complete


def test_session_locks_exclude_a_whole_sweep_and_the_same_shard(tmp_path):
    """filelock (no fcntl): shards share the folder; a whole sweep excludes every other session."""
    whole, shard0, shard0_again, shard1 = (SweepStore(tmp_path) for _ in range(4))
    whole.lock(None)
    with pytest.raises(StoreError, match="already computing a sweep"):
        shard0.lock((0, 2))
    whole.unlock()
    shard0.lock((0, 2))
    shard1.lock((1, 2))
    with pytest.raises(StoreError, match="already computing shard 0/2"):
        shard0_again.lock((0, 2))
    with pytest.raises(StoreError, match="already computing a sweep"):
        whole.lock(None)
    shard0.unlock()
    shard1.unlock()
    whole.lock(None)  # released locks are free again
    whole.unlock()


def test_runs_lost_to_a_worker_fault_are_retried_by_a_later_resume(tmp_path):
    marker = tmp_path / "fault"
    marker.write_text("workers die while this file exists")
    fn = functools.partial(standin_model, exit_above_realisation=0.65,
                           exit_while_file=str(marker))
    out = tmp_path / "lost"
    res = run_sweep(FF, out, backend="processes", workers=2, progress=False, run_fn=fn,
                    max_retries=0)
    assert res.stats["lost_runs"] == 6
    runs = read_sweep(out).runs
    assert (runs["fault"] == "infrastructure").sum() == 6
    marker.unlink()  # the fault has passed
    res = run_sweep(FF, out, backend="processes", workers=2, progress=False, run_fn=fn)
    assert res.stats["runs_this_session"] >= 6 and res.stats["failed_this_session"] == 0
    runs = read_sweep(out).runs
    assert (runs["status"] == "ok").all() and runs["fault"].isna().all()


def test_resume_after_the_model_code_changed_is_refused(ref, tmp_path):
    import json

    out = copy(ref, tmp_path)
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["code"]["source_sha256"]) == 64
    m["code"]["source_sha256"] = "0" * 64  # as if the sweep began with other model code
    (out / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(StoreError, match="model code changed since this sweep began"):
        run_sweep(FF, out, backend="serial", progress=False, run_fn=FN)


def test_full_disk_ends_in_a_clear_message_and_the_store_resumes(ref, tmp_path, monkeypatch):
    import gzsim.experiments.store as store

    real, calls = store.atomic_write_bytes, []

    def full(path, data, exclusive=False):
        calls.append(path)
        if len(calls) > 6:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, exclusive)

    monkeypatch.setattr(store, "atomic_write_bytes", full)
    out = tmp_path / "full"
    with pytest.raises(StoreError, match="no space left on the device .* rerun the same"):
        run_sweep(FF, out, backend="serial", progress=False, run_fn=FN, batch_size=2)
    monkeypatch.setattr(store, "atomic_write_bytes", real)
    res = run_sweep(FF, out, backend="serial", progress=False, run_fn=FN)
    assert 0 < res.stats["runs_done_before"] < 12
    assert_same_sweep(ref, out)
