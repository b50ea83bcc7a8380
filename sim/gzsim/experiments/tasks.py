"""What a worker does: run a batch of runs (design point x replication), capture failures as data.

This module is imported on every worker; it must stay light (no Dask, no pyarrow).

A *run* is ``(run_id, point, replication)``. Its scenario is the job's base mapping with the
point's ``{dotted.path: value}`` overrides applied and validated; its random numbers come from
``(root_seed, replication)`` only, so the same replication index shares random numbers across
points (common random numbers) and the result does not depend on which worker, batch or
executor ran it.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gzsim.errors import ScenarioError, UserError
from gzsim.experiments.spec import ScalarOutcome
from gzsim.indicators import INDICATORS
from gzsim.scenario.schema import Scenario, parse_year_month

RunFn = Callable[[Scenario, int, int], Mapping[str, np.ndarray]]
RunKey = tuple[int, int, int]  # (run_id, point, replication)

OK, FAILED = "ok", "failed"


def default_run_fn() -> RunFn:
    from gzsim.model import simulate_one

    return simulate_one


@dataclass(frozen=True)
class Job:
    """Everything a worker needs besides the batch: small, picklable, shared by every batch.

    ``run_fn(scenario, root_seed, replication) -> {indicator: monthly array}`` is the model
    (``gzsim.model.simulate_one`` by default); it must be a picklable top-level callable.
    ``base_data`` is the scenario mapping points override; when a point has no overrides and
    ``base_scenario`` is given, it is used as is (``gzsim run``: a sweep of one point).
    ``series``: which indicators to return (True all, False none); ``raw`` returns the model's
    arrays untouched (for in-memory use).
    """

    root_seed: int
    run_fn: RunFn | None = None
    base_data: dict | None = None
    base_scenario: Scenario | None = None
    series: bool | tuple[str, ...] = True
    scalars: tuple[ScalarOutcome, ...] = ()
    raw: bool = False

    def scenario_for(self, overrides: Mapping[str, Any]) -> Scenario:
        from gzsim.scenario.loader import apply_overrides, validate_scenario

        if not overrides and self.base_scenario is not None:
            return self.base_scenario
        if self.base_data is None:
            raise ValueError("job has no base scenario data to apply overrides to")
        data = apply_overrides(self.base_data, {}, dict(overrides))
        return validate_scenario(data, {}, "design point")


@dataclass
class Batch:
    """Runs executed together as one task (about a second of work or more)."""

    runs: list[RunKey]
    overrides: dict[int, dict[str, Any]]  # point -> {dotted.path: value}
    attempt: int = 0

    def __len__(self) -> int:
        return len(self.runs)

    def split(self) -> list[Batch]:
        h = len(self.runs) // 2
        parts = [self.runs[:h], self.runs[h:]]
        return [Batch(p, {k: self.overrides[k] for k in {r[1] for r in p}}, self.attempt)
                for p in parts if p]


@dataclass
class RunSeries:
    """The monthly output of one successful run."""

    start: str  # 'YYYY-MM' of the first month
    arrays: dict[str, np.ndarray]


@dataclass
class BatchOutput:
    """Per-run records (status, error, wall time, worker, scalar outcomes) and series."""

    records: list[dict[str, Any]]
    series: dict[int, RunSeries] = field(default_factory=dict)
    worker: str = ""
    wall_time_s: float = 0.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def error_text(exc: BaseException) -> tuple[str, str]:
    """(one-line message, short traceback) of an exception raised by a run."""
    if isinstance(exc, UserError):
        msg = str(exc).replace("\n  - ", " ").replace("\n", " ")
        return msg, ""
    msg = f"{type(exc).__name__}: {exc}".strip()
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
    return msg, tb


def scalar_value(outcome: ScalarOutcome, arr: np.ndarray, start: str) -> float:
    """A scalar KPI from a monthly array whose first month is ``start``."""
    agg = outcome.aggregation
    if agg == "final":
        return float(arr[-1])
    if agg == "total":
        return float(arr.sum())
    if agg in ("mean", "max", "min"):
        return float(getattr(np, agg)(arr))
    y0, m0 = parse_year_month(start)
    first = (outcome.year - y0) * 12 + (1 - m0)
    lo, hi = max(first, 0), min(first + 12, len(arr))
    if hi <= lo:
        raise ValueError(f"outcome '{outcome.name}': year {outcome.year} is outside the run")
    if agg == "annual":
        spec = INDICATORS.get(outcome.indicator)
        agg = "annual_sum" if spec is not None and spec.kind == "flow" else "december"
    if agg == "annual_sum":
        return float(arr[lo:hi].sum())
    if agg == "annual_mean":
        return float(arr[lo:hi].mean())
    dec = first + 11
    if not 0 <= dec < len(arr):
        raise ValueError(f"outcome '{outcome.name}': December {outcome.year} is outside the run")
    return float(arr[dec])


def run_one(job: Job, scenario: Scenario, run_fn: RunFn, replication: int
            ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Run the model once; check its output; compute the scalar outcomes."""
    out = run_fn(scenario, job.root_seed, replication)
    n = scenario.time.n_months
    arrays = {}
    for k, v in out.items():
        a = np.asarray(v, dtype=float)
        if a.shape != (n,):
            raise ValueError(f"model returned indicator '{k}' with shape {a.shape}, expected "
                             f"({n},) (one value per month)")
        arrays[k] = a
    scal = {}
    for s in job.scalars:
        if s.indicator not in arrays:
            raise ValueError(f"outcome '{s.name}': the model produced no indicator "
                             f"'{s.indicator}' (it produced {', '.join(arrays) or 'none'})")
        scal[s.name] = scalar_value(s, arrays[s.indicator], scenario.time.start)
    if job.series is True or job.raw:
        keep = arrays
    elif job.series is False:
        keep = {}
    else:
        missing = [k for k in job.series if k not in arrays]
        if missing:
            raise ValueError(f"the model produced no indicator(s) {missing}")
        keep = {k: arrays[k] for k in job.series}
    return keep, scal


def run_batch(job: Job, batch: Batch) -> BatchOutput:
    """Run every run of a batch; a run that raises is recorded as failed, the batch goes on."""
    t_batch = time.perf_counter()
    run_fn = job.run_fn or default_run_fn()
    who = worker_id()
    records: list[dict[str, Any]] = []
    series: dict[int, RunSeries] = {}
    scenarios: dict[int, Scenario | BaseException] = {}
    for run_id, point, rep in batch.runs:
        t0 = time.perf_counter()
        rec: dict[str, Any] = {"run_id": run_id, "point": point, "replication": rep,
                               "status": OK, "error": None, "traceback": None}
        try:
            sc = scenarios.get(point)
            if sc is None:
                try:
                    sc = job.scenario_for(batch.overrides.get(point, {}))
                except ScenarioError as e:
                    sc = e
                scenarios[point] = sc
            if isinstance(sc, BaseException):
                raise sc
            arrays, scal = run_one(job, sc, run_fn, rep)
            rec.update(scal)
            if arrays:
                series[run_id] = RunSeries(sc.time.start, arrays)
        except Exception as e:  # the run failed: record it as data, go on with the batch
            rec["status"] = FAILED
            rec["error"], rec["traceback"] = error_text(e)
            for s in job.scalars:
                rec[s.name] = np.nan
        rec["wall_time_s"] = time.perf_counter() - t0
        rec["worker"] = who
        records.append(rec)
    return BatchOutput(records, series, who, time.perf_counter() - t_batch)
