"""Replications of one scenario, run on local processes: the Python API behind `gzsim run`."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np
import pandas as pd

from gzsim.model import month_dates, simulate_one
from gzsim.results import Result, library_versions
from gzsim.scenario.schema import Scenario


def _one(scenario: Scenario, seed: int, replication: int) -> tuple[int, dict | None, str | None,
                                                                   float]:
    t0 = time.perf_counter()
    try:
        arrays = simulate_one(scenario, seed, replication)
        return replication, arrays, None, time.perf_counter() - t0
    except Exception as e:  # a failed replication is data, not the end of the run
        msg = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        return replication, None, msg, time.perf_counter() - t0


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             workers: int = 1, executor: Executor | None = None,
             progress: Callable[[int, int], None] | None = None) -> Result:
    """Run ``replications`` of ``scenario`` from root ``seed``; results as a :class:`Result`.

    Replication ``k`` always uses ``SeedSequence(seed).spawn(...)[k]``, whatever the executor
    or number of workers, so the same seed gives identical results.
    """
    n = int(replications or scenario.run.replications)
    root = int(scenario.run.seed if seed is None else seed)
    t0 = time.perf_counter()
    outputs: dict[int, tuple] = {}
    own = None
    if executor is None and workers > 1:
        executor = own = ProcessPoolExecutor(max_workers=workers)
    try:
        if executor is None:
            it = (_one(scenario, root, k) for k in range(n))
        else:
            it = executor.map(_one, [scenario] * n, [root] * n, range(n))
        for done, out in enumerate(it, 1):
            outputs[out[0]] = out
            if progress:
                progress(done, n)
    finally:
        if own is not None:
            own.shutdown()
    return assemble(scenario, root, n, outputs, time.perf_counter() - t0, workers)


def assemble(scenario: Scenario, root: int, n: int, outputs: dict[int, tuple],
             wall_s: float, workers: int) -> Result:
    dates = month_dates(scenario)
    frames, failures = [], []
    for k in sorted(outputs):
        _, arrays, err, _dt = outputs[k]
        if err is not None:
            failures.append({"replication": k, "error": err})
            continue
        df = pd.DataFrame({"replication": np.full(len(dates), k, dtype=np.int64), "date": dates})
        frames.append(pd.concat([df, pd.DataFrame(arrays)], axis=1))
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["replication", "date"])
    manifest = {
        "scenario": scenario.model_dump(mode="json"),
        "root_seed": root,
        "replications": n,
        "seeds": [{"replication": k, "entropy": root, "spawn_key": [k]} for k in range(n)],
        "seed_scheme": "numpy SeedSequence(entropy=root_seed, spawn_key=(replication,)); "
                       "per-process streams add crc32(stream name) to the spawn key",
        "versions": library_versions(),
        "wall_time_s": round(wall_s, 3),
        "workers": workers,
        "failed_replications": [f["replication"] for f in failures],
    }
    return Result(series=series, manifest=manifest,
                  failures=pd.DataFrame(failures) if failures else None)
