"""What a worker does: run a batch of runs, record failures as data.

A *run* is ``run_id = point * replications + replication``. Its scenario is the job's base
mapping with the point's ``{dotted.path: value}`` overrides applied and validated (once per
worker process and point: a small cache); its random numbers come from ``(root_seed,
replication)`` only, so results do not depend on which worker, batch or executor ran it.

For a sweep the worker also encodes the batch's files (``Job.encoder``), so the driver only
writes bytes.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gzsim import model
from gzsim.aggregate import aggregate
from gzsim.errors import ScenarioError, UserError
from gzsim.execution.lifecycle import watch_parent
from gzsim.scenario.loader import apply_overrides, validate_scenario
from gzsim.scenario.schema import Scenario

RunFn = Callable[[Scenario, int, int], Mapping[str, np.ndarray]]
OK, FAILED = "ok", "failed"
MODEL, INFRASTRUCTURE = "model", "infrastructure"  # what a failure is: ``fault`` column
_SCENARIOS: dict[tuple[str, str], Scenario | ScenarioError] = {}  # per worker process


@dataclass(frozen=True)
class Job:
    """Everything a worker needs besides the batch: small, picklable, the same for each batch.

    ``run_fn(scenario, root_seed, replication) -> {indicator: monthly array}`` is the model
    (``gzsim.model.simulate_one`` by default). ``base_scenario`` is used as is for a point
    without overrides (``gzsim run``); ``token`` names ``base_data`` in the worker's cache.
    ``encoder(job, batch, results)``: what a worker returns instead of the run results (a
    sweep's Parquet files), a picklable top-level function.
    """

    root_seed: int
    replications: int = 1
    run_fn: RunFn | None = None
    base_data: dict | None = None
    base_scenario: Scenario | None = None
    token: str = ""
    series: bool | tuple[str, ...] = True
    scalars: tuple[Any, ...] = ()  # gzsim.experiments.spec.ScalarOutcome
    factors: tuple[tuple[str, str], ...] = ()  # (column name, scenario path)
    encoder: Callable[[Job, Batch, list[RunResult]], Any] | None = None

    def scenario_for(self, overrides: Mapping[str, Any]) -> Scenario:
        """A point's validated scenario (cached per worker process)."""
        if not overrides and self.base_scenario is not None:
            return self.base_scenario
        key = (self.token, json.dumps(overrides, sort_keys=True, default=str))
        if key not in _SCENARIOS:
            if len(_SCENARIOS) > 256:
                _SCENARIOS.clear()
            try:
                data = apply_overrides(self.base_data or {}, {}, dict(overrides))
                _SCENARIOS[key] = validate_scenario(data, {}, "design point")
            except ScenarioError as e:
                _SCENARIOS[key] = e
        sc = _SCENARIOS[key]
        if isinstance(sc, ScenarioError):
            raise sc
        return sc


@dataclass
class Batch:
    """Runs executed as one task; ``lo``..``hi`` names the batch's files."""

    runs: list[int]
    overrides: dict[int, dict[str, Any]]  # point -> {dotted.path: value}
    lo: int = 0
    hi: int = 0
    attempt: int = 0
    whole: bool = True  # False: a piece of a batch split to isolate a run that kills workers


@dataclass
class RunResult:
    """One run: status, failure as data, scalar outcomes and (if it succeeded) its series."""

    run_id: int
    point: int
    replication: int
    status: str = OK
    error: str | None = None
    traceback: str | None = None
    fault: str | None = None
    wall_time_s: float = float("nan")
    worker: str = ""
    scalars: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] | None = None
    start: str = ""


def worker_id() -> str:
    """host:pid of this worker, recorded with each run."""
    return f"{socket.gethostname()}:{os.getpid()}"


def warm() -> None:
    """Executor initializer: the model came with this module; freeze what the worker holds.

    pyarrow's Parquet writer is
    left to the first sweep batch that encodes files (a sweep's driver has it already; `gzsim
    run`'s workers never need it). Then every object the worker holds so far (modules, the
    driver's heap when forked) is frozen out of the garbage collector: a full collection would
    otherwise walk them all, and in a forked worker touch every inherited page (copy-on-write),
    ~0.1 s in the middle of a run. The worker exits by itself if its driver dies
    (:func:`~gzsim.execution.lifecycle.watch_parent`).
    """
    watch_parent()
    gc.freeze()


def error_text(exc: BaseException) -> tuple[str, str]:
    """(one-line message, short traceback) of an exception raised by a run."""
    if isinstance(exc, UserError):
        return str(exc).replace("\n  - ", " ").replace("\n", " "), ""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
    return f"{type(exc).__name__}: {exc}".strip(), tb


def scalar_value(outcome: Any, arr: np.ndarray, start: str) -> float:
    """A scalar outcome of one run's monthly array (:func:`gzsim.aggregate.aggregate`)."""
    return float(aggregate(arr, start, outcome.aggregation, outcome.indicator,
                           year=outcome.year, quarter=getattr(outcome, "quarter", None))[0])


def _run_into(job: Job, res: RunResult, overrides: Mapping[str, Any], run_fn: RunFn) -> None:
    """Run the model once into ``res``; check its output; compute the scalar outcomes."""
    sc = job.scenario_for(overrides)
    out = dict(run_fn(sc, job.root_seed, res.replication))
    events = out.pop(model.EVENTS_KEY, None)  # the entity event log, when the run keeps one
    n = sc.time.n_months
    arrays = {k: np.asarray(v, dtype=float) for k, v in out.items()}
    for k, a in arrays.items():
        if a.shape != (n,):
            raise ValueError(f"model returned indicator '{k}' with shape {a.shape}, expected "
                             f"({n},) (one value per month)")
    for s in job.scalars:
        if s.indicator not in arrays:
            raise ValueError(f"outcome '{s.name}': the model produced no indicator "
                             f"'{s.indicator}' (it produced {', '.join(arrays) or 'none'})")
        res.scalars[s.name] = scalar_value(s, arrays[s.indicator], sc.time.start)
    if isinstance(job.series, tuple):
        missing = [k for k in job.series if k not in arrays]
        if missing:
            raise ValueError(f"the model produced no indicator(s) {missing}")
        arrays = {k: arrays[k] for k in job.series}
    res.arrays, res.start = (arrays if job.series or not job.encoder else None), sc.time.start
    if events is not None and res.arrays is not None:
        res.arrays[model.EVENTS_KEY] = events


def run_batch(job: Job, batch: Batch, encode: bool = True) -> Any:
    """Run every run of a batch; a run that raises is recorded as failed, the batch goes on."""
    run_fn = model.simulate_one if job.run_fn is None else job.run_fn  # (patchable in tests)
    who, results = worker_id(), []
    for rid in batch.runs:
        t0 = time.perf_counter()
        res = RunResult(rid, rid // job.replications, rid % job.replications, worker=who)
        try:
            _run_into(job, res, batch.overrides.get(res.point, {}), run_fn)
        except Exception as e:  # the run failed: record it as data, go on with the batch
            res.status, res.fault, res.arrays = FAILED, MODEL, None
            res.error, res.traceback = error_text(e)
        res.wall_time_s = time.perf_counter() - t0
        results.append(res)
    return job.encoder(job, batch, results) if job.encoder and encode else results


def lost(batch: Batch, job: Job, exc: BaseException, attempts: int) -> list[RunResult]:
    """Results for runs whose worker died every time it ran them (an infrastructure fault)."""
    msg = (f"worker lost while running this run ({attempts} attempts): "
           f"{type(exc).__name__}: {exc}")
    return [RunResult(r, r // job.replications, r % job.replications, FAILED, msg,
                      fault=INFRASTRUCTURE) for r in batch.runs]
