"""Replications of one scenario as a :class:`Result`: the Python API behind `gzsim run`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from gzsim.arguments import check_replications, check_seed, check_workers
from gzsim.execution import ExecutionOptions, run_replications
from gzsim.fileio import library_versions
from gzsim.model import month_dates
from gzsim.provenance import describe
from gzsim.results import Result
from gzsim.scenario.loader import check_scenario
from gzsim.scenario.schema import Scenario


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             options: ExecutionOptions | None = None, **fields: Any) -> Result:
    """Run ``replications`` of ``scenario`` from root ``seed``; results as a :class:`Result`.

    ``options`` (or its fields as keywords: ``workers=2``, ``progress=fn(done, total)``, ...)
    say how (:class:`~gzsim.execution.ExecutionOptions`). Replication ``k`` always
    uses ``SeedSequence(seed, spawn_key=(k,))``, whatever executes it, so the same seed gives
    identical results. A replication that raises is recorded, not fatal.
    """
    opts = ExecutionOptions.of(options, **fields)
    check_scenario(scenario)  # a Scenario (not a path), with its cross-field checks
    n = check_replications(scenario.run.replications if replications is None else replications,
                           scenario.time.n_months)
    root = check_seed(scenario.run.seed if seed is None else seed)
    if opts.workers is not None:
        opts = ExecutionOptions.of(opts, workers=check_workers(opts.workers))
    t0 = time.perf_counter()
    outputs = {o.replication: o for o in run_replications(scenario, n, root, opts)}
    return assemble(scenario, root, n, outputs, time.perf_counter() - t0, opts.workers or 1)


def assemble(scenario: Scenario, root: int, n: int, outputs: dict, wall_s: float,
             workers: int) -> Result:
    """Collect replication outputs into a :class:`Result` with its manifest."""
    dates = month_dates(scenario)
    frames, failures = [], []
    for k in sorted(outputs):
        _, arrays, err, _dt = outputs[k]  # a ReplicationOutput
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
