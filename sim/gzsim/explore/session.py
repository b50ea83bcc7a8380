"""Paired runs for the explorer: the comparison API with a result cache and cancellation.

A request is what ``gzsim compare BASE POLICY... -n N --seed S`` would run: every scenario runs
replications ``0..N-1`` from the same root seed (common random numbers and, with a posterior,
the same draw), and :func:`gzsim.analysis.compare.compare_results` pairs them. Each scenario's
:class:`~gzsim.results.Result` is cached on disk by a key over the resolved scenario, the
posterior file's bytes, the replications, the seed, the uncertainty mode and the model's code,
so a baseline run once is reused for every policy and survives a restart of the server.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import json
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gzsim.analysis.compare import Comparison, check_pairable, compare_results
from gzsim.arguments import check_replications, check_seed
from gzsim.errors import UserError
from gzsim.execution.tasks import warm
from gzsim.experiments.store import code_fingerprint as fingerprint
from gzsim.io.provenance import sha256_file
from gzsim.results import Result, read_results
from gzsim.run import simulate
from gzsim.scenario.schema import Scenario
from gzsim.scenario.sources import chain_files
from gzsim.uncertainty import resolve_mode


class Cancelled(Exception):
    """The user cancelled the run; what finished is cached, nothing else is kept."""


@functools.cache
def code_fingerprint() -> str:
    """Hash of gzsim's sources (a model change invalidates the cache)."""
    return fingerprint()["source_sha256"]


@functools.cache
def _file_sha(path: str, mtime_ns: int) -> str:
    return sha256_file(path)


def file_sha256(path: str | Path | None) -> str | None:
    """SHA-256 of a file (remembered while the file is unchanged); None without a file."""
    if not path or not Path(path).is_file():
        return None
    return _file_sha(str(path), Path(path).stat().st_mtime_ns)


def scenario_hash(sc: Scenario, mode: str) -> str:
    """SHA-256 of what determines a scenario's runs.

    The resolved scenario, its posterior and its assumptions file (sampled, as gzsim compare
    samples them).
    """
    post = sc.run.posterior if mode == "posterior" else None
    payload = {"scenario": sc.model_dump(mode="json"), "uncertainty": mode,
               "posterior_sha256": file_sha256(post),
               "assumptions_sha256": file_sha256(getattr(sc.run, "assumptions", None))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def result_key(sc: Scenario, replications: int, seed: int, mode: str) -> str:
    """The cache key: scenario hash, replications, seed and the model's code."""
    text = f"{scenario_hash(sc, mode)}|{int(replications)}|{int(seed)}|{code_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class ResultCache:
    """Results by key, in memory and in ``folder/runs/<key>/`` (a ``gzsim run`` folder)."""

    def __init__(self, folder: str | Path, keep_in_memory: int = 32):
        self.folder = Path(folder)
        self._memory: dict[str, Result] = {}
        self._keep = keep_in_memory
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        """Where the result of ``key`` is saved."""
        return self.folder / "runs" / key

    def get(self, key: str) -> Result | None:
        """The cached result, or None."""
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        p = self.path(key)
        if not (p / "series.parquet").is_file():
            return None
        try:
            res = read_results(p)
        except UserError:  # damaged: run again
            return None
        self._remember(key, res)
        return res

    def put(self, key: str, res: Result) -> None:
        """Save ``res`` (atomically) and keep it in memory."""
        res.save(self.path(key))
        self._remember(key, res)

    def _remember(self, key: str, res: Result) -> None:
        with self._lock:
            self._memory[key] = res
            while len(self._memory) > self._keep:
                self._memory.pop(next(iter(self._memory)))


@dataclass
class Request:
    """A paired comparison: the baseline, the policies, replications, seed and uncertainty."""

    baseline: Scenario
    policies: list[Scenario]
    replications: int = 20
    seed: int | None = None
    uncertainty: str | None = None
    level: float = 0.90
    files: dict[str, Path] = field(default_factory=dict)  # scenario name -> its YAML file

    @property
    def root_seed(self) -> int:
        """The seed used (default: the baseline's ``run.seed``, as ``gzsim compare``)."""
        return self.baseline.run.seed if self.seed is None else int(self.seed)

    @property
    def mode(self) -> str:
        """``posterior`` or ``noise``, resolved from the baseline as ``gzsim compare`` does."""
        return resolve_mode(self.baseline, self.uncertainty)

    def check(self) -> None:
        """Refuse before running what ``gzsim compare`` would refuse (a UserError)."""
        if not self.policies:
            raise UserError("choose at least one policy (a shipped file or levers) to compare")
        n = check_replications(self.replications, self.baseline.time.n_months)
        if n < 2:
            raise UserError("replications must be at least 2 to pair scenarios (got 1)")
        if self.seed is not None:
            check_seed(self.seed)
        key = Result(pd.DataFrame(), {"scenario": self.baseline.model_dump(mode="json")})
        for sc in self.policies:
            check_pairable(self.baseline.name, key, sc.name,
                           Result(pd.DataFrame(), {"scenario": sc.model_dump(mode="json")}))


def _names(scenarios: list[Scenario]) -> list[str]:
    """Scenario names, ``_2``, ``_3``... for repeats (as :func:`gzsim.analysis.compare.compare`)."""
    out: list[str] = []
    for sc in scenarios:
        name, k = sc.name, 1
        while name in out:
            k += 1
            name = f"{sc.name}_{k}"
        out.append(name)
    return out


def run_paired(req: Request, cache: ResultCache,
               progress: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None, **run_options: Any) -> Comparison:
    """Run (or take from the cache) every scenario of ``req`` and pair them with the baseline.

    ``progress(done, total)`` counts replications over all scenarios (cached ones at once);
    setting ``cancel`` stops at the next finished replication with :class:`Cancelled`.
    ``run_options`` go to :func:`gzsim.run.simulate` (``workers``, ``executor``...).
    """
    req.check()
    scenarios = [req.baseline, *req.policies]
    n, root = int(req.replications), req.root_seed
    total = n * len(scenarios)
    results: dict[str, Result] = {}
    for i, (name, sc) in enumerate(zip(_names(scenarios), scenarios, strict=True)):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        key = result_key(sc, n, root, resolve_mode(sc, req.uncertainty))
        res = cache.get(key)
        if res is None:
            def step(done: int, _n: int, i: int = i) -> None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("cancelled")
                if progress is not None:
                    progress(i * n + done, total)

            res = simulate(sc, replications=n, seed=root, uncertainty=req.uncertainty,
                           progress=step, **{"assumptions": "sampled", **run_options})
            cache.put(key, res)
        results[name] = res
        if progress is not None:
            progress((i + 1) * n, total)
    return compare_results(results, base=next(iter(results)), level=req.level)


class WorkerPool:
    """One warm process pool for every run the server makes (no start-up cost per scenario).

    Runs started from the server's threads use the ``forkserver`` start method (forking a
    threaded server is unsafe), preloading the model. A pool broken by a dead worker is
    replaced on the next :meth:`get`.
    """

    def __init__(self, workers: int):
        self.workers = int(workers)
        self._pool: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The live pool (made on first use)."""
        with self._lock:
            if self._pool is None or getattr(self._pool, "_broken", False):
                methods = multiprocessing.get_all_start_methods()
                ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods
                                                  else "spawn")
                if "forkserver" in methods:
                    ctx.set_forkserver_preload(["gzsim.execution.tasks", "gzsim.model"])
                self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx,
                                                    initializer=warm)
            return self._pool

    def warm(self) -> None:
        """Start the workers now (each imports the model once)."""
        if self.workers > 1:
            pool = self.get()
            for _ in range(self.workers):
                pool.submit(int)

    def run_options(self) -> dict[str, Any]:
        """What :func:`run_paired` passes to ``simulate``: the pool, or one worker in-process."""
        if self.workers <= 1:
            return {"workers": 1}
        return {"executor": self.get(), "workers": self.workers}

    def shutdown(self) -> None:
        """Stop the pool's processes."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


def baseline_notes(req: Request) -> list[str]:
    """Warnings about the pairing: a policy file that does not extend the chosen baseline.

    Its difference from the baseline is then the policy plus whatever its own base changes
    (as it would be with ``gzsim compare``): said, not refused.
    """
    base_file = req.files.get(req.baseline.name)
    if base_file is None:
        return []
    base = str(Path(base_file).resolve())
    notes = []
    for sc in req.policies:
        f = req.files.get(sc.name)
        if f is not None and base not in {e["path"] for e in chain_files(f)}:
            notes.append(f"{Path(f).name} does not extend {Path(base).name}: its difference "
                         f"from {req.baseline.name} includes whatever its own base changes.")
    return notes
