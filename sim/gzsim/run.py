"""Replications of one scenario, run on local processes: the Python API behind `gzsim run`."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from gzsim.fileio import library_versions
from gzsim.model import month_dates
from gzsim.provenance import describe
from gzsim.results import Result
from gzsim.scenario.schema import Scenario


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             workers: int | None = None, backend: str | None = None,
             progress: Callable[[int, int], None] | None = None, **execute_kwargs) -> Result:
    """Run ``replications`` of ``scenario`` from root ``seed``; results as a :class:`Result`.

    A run is a sweep of one point: this goes through the same execution layer as
    ``gzsim sweep`` (:func:`gzsim.experiments.run_replications`). Replication ``k`` always uses
    ``SeedSequence(seed, spawn_key=(k,))``, whatever the backend or number of workers, so the
    same seed gives identical results. A replication that raises is recorded, not fatal;
    when every one fails (or the first few fail the same way) :class:`ReplicationsFailed`
    quotes the first error. ``workers`` defaults to the number of CPUs (as on the command
    line), at most one per replication.
    """
    import os

    from gzsim.arguments import check_replications, check_seed, check_workers
    from gzsim.experiments import run_replications
    from gzsim.failfast import check_main_guard
    from gzsim.scenario.loader import check_scenario

    check_scenario(scenario)  # a Scenario (not a path), with its cross-field checks
    n = check_replications(scenario.run.replications if replications is None else replications,
                           scenario.time.n_months)
    root = check_seed(scenario.run.seed if seed is None else seed)
    workers = check_workers(min(os.cpu_count() or 1, n) if workers is None else workers)
    check_main_guard(1 if backend == "serial" else workers)
    t0 = time.perf_counter()
    outputs: dict[int, tuple] = {}
    runs = run_replications(scenario, n, root, workers=workers, backend=backend,
                            progress=progress, **execute_kwargs)
    try:
        for out in runs:
            outputs[out.replication] = (out.replication, out.arrays, out.error, out.wall_time_s)
            if stop_early(outputs, n, scenario.name):
                break
    finally:
        runs.close()
    return assemble(scenario, root, n, outputs, time.perf_counter() - t0, workers)


def stop_early(outputs: dict[int, tuple], n: int, name: str) -> bool:
    """Raise when every replication failed, or the first few failed the same way."""
    from gzsim.failfast import STOP_AFTER, all_failed, first_line

    if any(o[2] is None for o in outputs.values()):
        return False
    errors = [o[2] for o in outputs.values()]
    same = len({first_line(e) for e in errors}) == 1
    if len(outputs) == n or (len(outputs) >= min(n, STOP_AFTER) and same):
        failures = [{"replication": k, "error": outputs[k][2]} for k in sorted(outputs)]
        raise all_failed(name, failures, n, len(outputs) < n)
    return False


def assemble(scenario: Scenario, root: int, n: int, outputs: dict[int, tuple],
             wall_s: float, workers: int) -> Result:
    """Collect replication outputs into a :class:`Result` with its manifest."""
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
        {"replication": pd.Series([], dtype=np.int64),
         "date": pd.Series([], dtype="datetime64[ns]")})
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
        "provenance": describe(scenario),
    }
    return Result(series=series, manifest=manifest,
                  failures=pd.DataFrame(failures) if failures else None)
