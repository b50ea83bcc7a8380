"""Posterior predictive checks: simulate targets from posterior draws with fresh seeds.

Draw ``i`` takes a particle with the posterior weights (its own ``SeedSequence`` stream) and one
replication whose seed is not among the calibration's common random numbers, so the band holds
both parameter uncertainty and the model's own randomness.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from gzsim.calibration.problem import CalibrationProblem, Simulator, TargetView
from gzsim.io.posterior import Posterior, weighted_quantile

PPC_STREAM = 13  # spawn-key purpose of the predictive draws


def _one(args: tuple[Simulator, dict, int, int]) -> dict[str, float]:
    sim, values, seed, rep = args
    try:
        return sim.stats(values, [rep], seed)
    except Exception:  # noqa: BLE001 - a failed draw is reported as missing
        return {t.id: float("nan") for t in sim.targets}


def predictive(problem: CalibrationProblem, post: Posterior | None, draws: int,
               workers: int = 1, targets: list[TargetView] | None = None,
               prior: bool = False, to_end: bool = False) -> pd.DataFrame:
    """One row per draw: the particle used and each target's simulated value.

    ``to_end``: simulate to the scenario's own end, not the fitting horizon (forecasts).
    """
    targets = targets if targets is not None else problem.candidates
    sim = Simulator(problem.base_data, targets, problem.spec.seed, 1,
                    None if to_end else problem.spec.horizon_end)
    seed = problem.spec.seed + 1  # not the calibration's CRN seeds
    jobs, index = [], []
    if prior:
        rng = np.random.default_rng(np.random.SeedSequence(problem.spec.seed,
                                                           spawn_key=(PPC_STREAM, 1)))
        rows = problem.priors.sample(draws, rng)
        for i, x in enumerate(rows):
            jobs.append((sim, dict(zip(problem.priors.paths, x, strict=True)), seed, i))
            index.append(-1)
    else:
        for i in range(draws):
            rng = np.random.default_rng(np.random.SeedSequence(problem.spec.seed,
                                                               spawn_key=(PPC_STREAM, 0, i)))
            k = post.draw(rng)
            jobs.append((sim, post.values(k), seed, i))
            index.append(k)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            out = list(pool.map(_one, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    else:
        out = [_one(j) for j in jobs]
    frame = pd.DataFrame(out)
    frame.insert(0, "particle", index)
    return frame


def check_table(problem: CalibrationProblem, draws: pd.DataFrame,
                fitted_ids: set[str]) -> pd.DataFrame:
    """Every candidate target against its predictive median and 90 % band."""
    rows = []
    for t in problem.candidates:
        v = draws[t.id].dropna().to_numpy(float)
        if not len(v):
            continue
        w = np.ones_like(v)
        p05, med, p95 = weighted_quantile(v, w, (0.05, 0.5, 0.95))
        rows.append({"id": t.id, "year": t.last_year, "kind": t.kind, "unit": t.unit,
                     "observed": t.value, "sim_median": med, "sim_p05": p05, "sim_p95": p95,
                     "tolerance": t.scale / abs(t.value) if t.value else np.nan,
                     "scaled_miss": (med - t.value) / t.scale,
                     "inside_band": bool(p05 <= t.value <= p95),
                     "within_tolerance": bool(abs(med - t.value) <= t.scale),
                     "fitted": t.id in fitted_ids})
    return pd.DataFrame(rows)
