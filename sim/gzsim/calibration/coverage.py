"""Simulation-based calibration: does the 90 % posterior interval hold the truth 90 % of the time?

For truth ``i`` (parameters drawn from the prior with their own ``SeedSequence`` stream) the
targets are replaced by the model's own output at the truth, from one replication whose seed is
not among the calibration's common random numbers (real data are one realisation too); ABC-SMC
then runs exactly as ``gzsim calibrate`` does, and we record whether each parameter's weighted
90 % interval holds its true value. Coverage near the nominal level says the posterior's width
is honest; far below says it is overconfident; near 1 with wide intervals says it is timid.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from gzsim.calibration.abc import run_abc
from gzsim.calibration.problem import CalibrationProblem, Simulator
from gzsim.io.posterior import weighted_quantile

TRUTH_STREAM = 17


def with_observed(problem: CalibrationProblem, observed: dict[str, float]) -> CalibrationProblem:
    """A copy of ``problem`` whose fitted targets have the given values (same tolerances)."""
    cands = [dataclasses.replace(t, value=float(observed[t.id])) if t.id in observed else t
             for t in problem.candidates]
    return dataclasses.replace(problem, candidates=cands)


def synthetic(problem: CalibrationProblem, truth: dict[str, float], seed: int) -> dict:
    """The fitted targets as the model produces them at ``truth`` (one replication)."""
    sim = Simulator(problem.base_data, problem.fitted, seed, 1, problem.spec.horizon_end)
    return sim(truth)


def coverage(problem: CalibrationProblem, truths: int, out_root: Path, workers: int = 1,
             level: float = 0.90) -> pd.DataFrame:
    """One row per (truth, parameter): true value, posterior interval, inside or not."""
    rows = []
    a = (1 - level) / 2
    for i in range(truths):
        rng = np.random.default_rng(np.random.SeedSequence(problem.spec.seed,
                                                           spawn_key=(TRUTH_STREAM, i)))
        truth = dict(zip(problem.priors.paths, problem.priors.sample(1, rng)[0], strict=True))
        obs = synthetic(problem, truth, seed=problem.spec.seed + 1000 + i)
        if not all(np.isfinite(v) for v in obs.values()):
            continue
        run = run_abc(with_observed(problem, obs), out_root / f"truth_{i:03d}", workers)
        w = run.particles["weight"].to_numpy(float)
        for p in problem.priors.priors:
            x = run.particles[p.path].to_numpy(float)
            lo, hi = weighted_quantile(x, w, (a, 1 - a))
            plo, phi = p.frozen().ppf([a, 1 - a])
            rows.append({"truth": i, "parameter": p.path, "true": truth[p.path], "low": lo,
                         "high": hi, "inside": bool(lo <= truth[p.path] <= hi),
                         "width_ratio": (hi - lo) / (phi - plo),
                         "final_epsilon": float(run.generations["epsilon"].iloc[-1])})
    return pd.DataFrame(rows)
