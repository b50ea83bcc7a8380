"""Run pyabc's ABC-SMC on a :class:`CalibrationProblem`, resumably, and read its posterior.

pyabc's SQLite history (``abc.db`` beside the outputs) is the database of the run: every
generation is committed when it completes, so after an interruption (even SIGKILL) the next
call loads the history and continues from the last complete generation. A history made by a
different problem (other priors, targets or settings) is refused, never mixed.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gzsim.calibration.priors import PriorsFile
from gzsim.calibration.problem import CalibrationProblem, Simulator
from gzsim.errors import UserError
from gzsim.execution.lifecycle import watch_parent
from gzsim.scenario.loader import apply_overrides

DB_NAME = "abc.db"


@dataclass
class AbcRun:
    """What ABC-SMC produced: the history's final population and how it got there."""

    db_path: Path
    particles: pd.DataFrame  # one row per particle: parameter columns, weight, distance
    generations: pd.DataFrame  # t, epsilon, samples, particles, acceptance rate
    total_simulations: int
    wall_time_s: float
    resumed_from: int | None  # generations already in the database when this call started
    stop_reason: str
    fingerprint: str
    abc_seconds: float = float("nan")  # sampling time of every generation in the database


# The settings that define the sampler. Stopping rules (generations, epsilon, acceptance, wall
# time) and what is drawn after sampling (predictive and reading draws) are left out, so a run
# can be resumed with a larger budget or re-reported with more draws.
SAMPLING_SETTINGS = {"population", "replications", "crn", "transition", "kernel_scaling",
                     "shrink_covariance", "quantile_alpha"}


def fingerprint(problem: CalibrationProblem) -> str:
    """A hash of everything that defines the run (priors, fitted targets, sampler, seed).

    The scenario enters without the free parameters' own values: the priors replace them, and
    the calibration itself rewrites them (fitted.yaml), which must not block a resume.
    """
    base = apply_overrides(problem.base_data, {}, {p: None for p in problem.priors.paths})
    blob = json.dumps({
        "priors": [p.model_dump() for p in problem.priors.priors],
        "targets": [(t.id, t.value, t.scale) for t in problem.fitted],
        "settings": problem.settings.model_dump(include=SAMPLING_SETTINGS),
        "seed": problem.spec.seed,
        "growth": problem.growth_values, "horizon": problem.spec.horizon_end,
        "space": "normal scores",
        "base": base}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sampler(workers: int):
    # start-up, and gzsim[calibration] is an optional extra: loaded on use
    import pyabc

    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


@dataclass
class NormalScoresModel:
    """The pyabc model on normal scores: maps a particle to natural values, then simulates."""

    simulator: Simulator
    priors: PriorsFile
    driver: int = field(default_factory=os.getpid)

    def __call__(self, z: dict[str, float]) -> dict[str, float]:
        """Summary statistics at the natural-scale values of normal scores ``z``.

        In a pyabc worker process, the first call starts its watchdog: the worker exits if
        the calibration's driver dies (even by SIGKILL).
        """
        if os.getpid() != self.driver:
            watch_parent()
        return self.simulator(self.priors.from_normal_scores(z))


def _make_abc(problem: CalibrationProblem, workers: int):
    # start-up, and gzsim[calibration] is an optional extra: loaded on use
    import pyabc

    from gzsim.calibration.transition import GaussianTransition  # pyabc: an optional extra

    s = problem.settings
    if s.transition == "gaussian":
        transition = GaussianTransition(scaling=s.kernel_scaling, shrink=s.shrink_covariance)
    else:
        transition = {"global": pyabc.MultivariateNormalTransition,
                      "local": pyabc.LocalTransition}[s.transition](scaling=s.kernel_scaling)
    return pyabc.ABCSMC(NormalScoresModel(problem.simulator(), problem.priors),
                        problem.priors.normal_scores_distribution(),
                        problem.distance(), population_size=s.population,
                        transitions=transition, sampler=_sampler(workers),
                        eps=pyabc.QuantileEpsilon(alpha=s.quantile_alpha))


def run_abc(problem: CalibrationProblem, out_dir: Path, workers: int = 1,
            on_generation: Callable[[dict], None] | None = None,
            progress: bool = False) -> AbcRun:
    """Run (or resume) ABC-SMC into ``out_dir/abc.db``; return the final population.

    With ``progress`` pyabc's own per-generation log (epsilon, acceptance) goes to stderr.
    """
    level = logging.INFO if progress else logging.WARNING
    for name in ("ABC", "ABC.Sampler", "ABC.Epsilon", "ABC.Distance", "ABC.History"):
        logging.getLogger(name).setLevel(level if name == "ABC" else logging.WARNING)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / DB_NAME
    url = f"sqlite:///{db_path.resolve()}"
    fp = fingerprint(problem)
    s = problem.settings
    # pyabc's proposals draw from numpy's global generator; seed it from the spec (the model's
    # own randomness is the fixed CRN seeds). Parallel samplers reseed workers from the OS, so a
    # multi-worker run is not bit-reproducible: posterior.parquet is the artefact, not the path.
    np.random.seed(np.random.SeedSequence(problem.spec.seed, spawn_key=(11,)).generate_state(1))
    abc = _make_abc(problem, workers)
    resumed_from = _resume(abc, db_path, url, fp)
    done = resumed_from or 0
    if resumed_from is None:
        abc.new(url, problem.observed, meta_info={"fingerprint": fp, "gzsim": "calibrate"})
    if progress:
        print(f"gzsim: resuming {db_path} after generation {done - 1} ({done} done)"
              if resumed_from else f"gzsim: starting clean in {db_path}", file=sys.stderr)
    t0 = time.perf_counter()
    remaining = max(0, s.max_generations - done)
    if remaining:
        with interruption_kept():
            abc.run(minimum_epsilon=s.minimum_epsilon, max_nr_populations=remaining,
                    min_acceptance_rate=s.min_acceptance_rate,
                    max_walltime=_dt.timedelta(minutes=s.max_walltime_minutes))
    return collect(abc.history, db_path, time.perf_counter() - t0, resumed_from, fp, problem,
                   on_generation)


@contextlib.contextmanager
def interruption_kept() -> Iterator[None]:
    """An interruption stays one when pyabc's clean-up fails on it.

    ``ABCSMC.run`` closes its history in a ``finally``: a Ctrl-C (or SIGTERM) in the middle of
    a generation's database commit leaves SQLAlchemy's session rolled back, that clean-up
    then raises ``PendingRollbackError``, and the interruption became a traceback (exit 1).
    The generation was not committed; those before it were, and a rerun resumes after them.
    """
    try:
        yield
    except Exception as e:
        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, KeyboardInterrupt):
            cause = cause.__context__
        if cause is None:
            raise
        raise cause from None


def _resume(abc, db_path: Path, url: str, fp: str) -> int | None:
    """Generations the database at ``db_path`` holds for this problem (loaded into ``abc``).

    None: start clean (no database, or one a run killed before its first generation, which is
    removed). A database that is not SQLite, or of another problem, is refused.
    """
    # start-up, and gzsim[calibration] is an optional extra: loaded on use
    import pyabc

    if not db_path.exists():
        return None
    hint = "start again with --overwrite (discards it) or choose another --out"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as e:
        raise UserError(f"{db_path}: not a readable pyabc database ({e}); {hint}") from None
    done = 0
    if {"abc_smc", "populations"} <= tables:  # else: killed while the database was created
        try:
            hist = pyabc.History(url)
            runs = hist.all_runs()
            if runs:
                hist.id = runs[-1].id
                meta = _meta(hist)
                if meta.get("fingerprint") != fp:
                    raise UserError(f"{db_path} holds a calibration of a different problem "
                                    f"(fingerprint {meta.get('fingerprint')} != {fp}); {hint}")
                max_t = hist.max_t  # None: killed inside abc.new(), no population yet
                done = max_t + 1 if max_t is not None and max_t >= 0 else 0
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - sqlalchemy/pyabc errors of a damaged history
            raise UserError(f"{db_path}: damaged pyabc database ({type(e).__name__}: {e}); "
                            f"{hint}") from None
    if done > 0:
        abc.load(url, hist.id)
        return done
    db_path.unlink()  # a database with no complete generation holds nothing to keep
    return None


def _meta(hist) -> dict:
    """The ``meta_info`` this package stored with the run (pyabc keeps it as a repr string)."""
    try:
        value = ast.literal_eval(hist.get_abc().json_parameters or "{}")
    except (ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}


def collect(hist, db_path: Path, wall_s: float, resumed_from: int | None, fp: str,
            problem: CalibrationProblem, on_generation=None) -> AbcRun:
    """The run's generations and final population, read back from the pyabc history."""
    pops = hist.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    gens = pd.DataFrame({"t": pops["t"].astype(int), "epsilon": pops["epsilon"],
                         "samples": pops["samples"].astype(int),
                         "particles": pops["particles"].astype(int)})
    gens["acceptance_rate"] = gens["particles"] / gens["samples"].clip(lower=1)
    all_pops = hist.get_all_populations()
    gens.attrs["abc_seconds"] = float(all_pops["wall_time"].sum()) \
        if "wall_time" in all_pops else float("nan")
    if on_generation:
        for rec in gens.to_dict("records"):
            on_generation(rec)
    df, w = hist.get_distribution(m=0, t=hist.max_t)
    dist = hist.get_weighted_distances(t=hist.max_t)
    z = df.reset_index(drop=True)[problem.priors.paths]
    particles = pd.DataFrame([problem.priors.from_normal_scores(r) for r in
                              z.to_dict("records")], columns=problem.priors.paths)
    particles["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    particles["distance"] = dist["distance"].to_numpy()
    particles.insert(0, "generation", int(hist.max_t))
    s = problem.settings
    last = gens.iloc[-1]
    if last["epsilon"] <= s.minimum_epsilon:
        reason = f"epsilon {last['epsilon']:.3g} reached the minimum {s.minimum_epsilon}"
    elif len(gens) >= s.max_generations:
        reason = f"{s.max_generations} generations done"
    elif last["acceptance_rate"] < s.min_acceptance_rate:
        reason = f"acceptance rate {last['acceptance_rate']:.3g} below {s.min_acceptance_rate}"
    else:
        reason = f"wall-time budget ({s.max_walltime_minutes} min) used"
    return AbcRun(db_path, particles, gens, int(hist.total_nr_simulations), wall_s,
                  resumed_from, reason, fp, gens.attrs["abc_seconds"])
