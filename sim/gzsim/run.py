"""Replications of one scenario as a :class:`Result`: the Python API behind `gzsim run`."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from gzsim import discrepancy
from gzsim.arguments import check_replications, check_seed, check_workers
from gzsim.execution import ExecutionOptions, run_replications
from gzsim.execution.failfast import check_main_guard
from gzsim.execution.loop import ReplicationOutput
from gzsim.execution.tasks import RunFn
from gzsim.io.fileio import library_versions
from gzsim.io.provenance import describe
from gzsim.model import month_dates
from gzsim.results import Grid, Result
from gzsim.scenario.loader import check_scenario
from gzsim.scenario.schema import Scenario


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             options: ExecutionOptions | None = None, uncertainty: str | None = None, *,
             run_fn: RunFn | None = None,
             **fields: Any) -> Result:
    """Run ``replications`` of ``scenario`` from root ``seed``; results as a :class:`Result`.

    ``options`` (or its fields as keywords: ``workers=2``, ``progress=fn(done, total)``, ...)
    say how (:class:`~gzsim.execution.ExecutionOptions`); ``run_fn`` replaces the model (any
    picklable ``(scenario, root_seed, replication) -> arrays``, run without posterior
    draws); workers default to the number of
    CPUs (as on the command line), at most one per replication. Replication ``k`` always uses
    ``SeedSequence(seed, spawn_key=(k,))``, whatever executes it, so the same seed gives
    identical results. A replication that raises is recorded, not fatal; when every one fails
    (or the first few fail the same way)
    :class:`~gzsim.execution.failfast.ReplicationsFailed` quotes the first error.
    ``uncertainty``: ``posterior`` draws each replication's parameters from the
    scenario's posterior as well as its streams, ``noise`` keeps them fixed; the default is
    posterior when the scenario has one (:mod:`gzsim.uncertainty`).
    """
    from gzsim.uncertainty import plan_draws

    opts = ExecutionOptions.of(options, **fields)
    check_scenario(scenario)  # a Scenario (not a path), with its cross-field checks
    n = check_replications(scenario.run.replications if replications is None else replications,
                           scenario.time.n_months)
    root = check_seed(scenario.run.seed if seed is None else seed)
    workers = 1 if opts.backend == "serial" else check_workers(
        min(os.cpu_count() or 1, n) if opts.workers is None else opts.workers)
    opts = ExecutionOptions.of(opts, workers=workers)
    check_main_guard(workers)
    t0 = time.perf_counter()
    plan = plan_draws(scenario, n, root, uncertainty) if run_fn is None else None
    outputs: dict[int, ReplicationOutput] = {}
    runs = run_replications(scenario, n, root, opts, run_fn=plan.run_fn() if plan else run_fn)
    try:
        for out in runs:
            outputs[out.replication] = out
            if stop_early(outputs, n, scenario.name):
                break
    finally:
        runs.close()
    if plan is not None and scenario.run.discrepancy is not None:  # posterior runs only
        outputs = {k: o._replace(arrays=discrepancy.apply(scenario, root, k, o.arrays))
                   if o.error is None else o for k, o in outputs.items()}
    result = assemble(scenario, root, n, outputs, time.perf_counter() - t0, workers)
    result.manifest["uncertainty"] = plan.manifest() if plan else {"mode": "noise"}
    if plan is not None and discrepancy.describe(scenario):
        result.manifest["uncertainty"]["discrepancy"] = discrepancy.describe(scenario)
    return result


def stop_early(outputs: dict[int, ReplicationOutput], n: int, name: str) -> bool:
    """Raise when every replication failed, or the first few failed the same way."""
    from gzsim.execution.failfast import STOP_AFTER, all_failed, first_line

    if any(o[2] is None for o in outputs.values()):
        return False
    errors = [o[2] for o in outputs.values()]
    same = len({first_line(e) for e in errors}) == 1
    if len(outputs) == n or (len(outputs) >= min(n, STOP_AFTER) and same):
        failures = [{"replication": k, "error": outputs[k][2]} for k in sorted(outputs)]
        raise all_failed(name, failures, n, len(outputs) < n)
    return False



def assemble(scenario: Scenario, root: int, n: int, outputs: dict, wall_s: float,
             workers: int) -> Result:
    """Collect replication outputs into a :class:`Result` with its manifest."""
    dates = month_dates(scenario)
    done, failures = [], []
    for k in sorted(outputs):
        _, arrays, err, _dt = outputs[k]  # a ReplicationOutput
        if err is not None:
            failures.append({"replication": k, "error": err})
        else:
            done.append((k, arrays))
    names = list(done[0][1]) if done else []
    grid = Grid(np.array([k for k, _ in done], dtype=np.int64), dates,
                {name: np.array([a[name] for _, a in done], dtype=float) for name in names})
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
    failed = None
    if failures:
        import pandas as pd  # only when something failed: a fresh run needs no pandas

        failed = pd.DataFrame(failures)
    return Result(grid=grid, manifest=manifest, failures=failed)
