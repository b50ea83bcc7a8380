"""Designs: factors -> design points, drawn by ``scipy.stats.qmc``, ``numpy`` or ``SALib.sample``.

``X`` keeps the sample in the space of the SALib ``problem``: a ``range`` factor in its own
units, a ``levels`` or ``distribution`` factor in [0, 1] (mapped to a level, or through the
quantile function). So ``SALib.analyze`` runs on ``(problem, X, Y)`` directly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from gzsim.errors import ExperimentError, Problem
from gzsim.experiments.spec import DesignSpec, Experiment, Factor, frozen_distribution

X_PREFIX = "x:"  # design.parquet columns holding the problem-space sample
MAX_POINTS = 50_000_000


@dataclass
class Design:
    """Design points, the sample as drawn (``X``), the SALib ``problem``, the sampler's settings.

    ``points`` has column ``point`` and one column per factor (the values the scenario gets).
    """

    kind: str
    factors: list[Factor]
    points: pd.DataFrame
    X: np.ndarray
    problem: dict[str, Any]
    params: dict[str, Any]

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @cached_property
    def _columns(self) -> list[tuple[str, np.ndarray]]:
        return [(f.path, self.points[f.name].to_numpy()) for f in self.factors]

    def overrides(self, point: int) -> dict[str, Any]:
        """The ``{dotted.path: value}`` overrides of one point (plain Python values)."""
        return {path: v.item() if isinstance(v := col[point], np.generic) else v
                for path, col in self._columns}

    def to_frame(self) -> pd.DataFrame:
        """``points`` plus the problem-space sample as ``x:<factor>`` columns."""
        return self.points.assign(**{X_PREFIX + f.name: self.X[:, j]
                                     for j, f in enumerate(self.factors)})

    def describe(self) -> dict[str, Any]:
        """JSON-able description for the manifest."""
        return {"kind": self.kind, "n_points": self.n_points, "params": self.params,
                "factors": [{"name": f.name, "path": f.path, "kind": f.spec.kind}
                            for f in self.factors], "problem": self.problem}


def salib_problem(factors: list[Factor]) -> dict[str, Any]:
    """The SALib problem dict of the factors."""
    bounds = [list(map(float, f.spec.range)) if f.spec.kind == "range" else [0.0, 1.0]
              for f in factors]
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": bounds}


def values_from_problem_space(f: Factor, x: np.ndarray, morris_levels: int | None = None
                              ) -> np.ndarray | list:
    """Map one factor's problem-space column to the values the scenario gets."""
    s = f.spec
    if s.kind == "levels":
        idx = np.minimum((np.clip(x, 0, 1) * len(s.levels)).astype(int), len(s.levels) - 1)
        v = pd.Series(s.levels).iloc[idx]  # keeps the levels' type (bool, int, float, str)
        return v.to_numpy() if v.dtype != object else v.tolist()
    if s.kind == "range":
        v = np.clip(x, *s.range)
    else:  # the Morris grid {0, 1/(p-1), ..., 1} -> interior quantiles
        u = (x * (morris_levels - 1) + 0.5) / morris_levels if morris_levels else x
        v = frozen_distribution(s.distribution).ppf(np.clip(u, 1e-12, 1 - 1e-12))
    return np.rint(v).astype(np.int64) if s.integer else np.asarray(v, dtype=float)


def _grid(f: Factor) -> list[float]:
    """Problem-space coordinates of a factor's levels in a full factorial design."""
    s = f.spec
    n = len(s.levels) if s.kind == "levels" else int(s.levels)
    if s.kind == "range":
        return list(np.linspace(*s.range, n)) if n > 1 else [sum(s.range) / 2]
    return [(i + 0.5) / n for i in range(n)]


def _sample(spec: DesignSpec, factors: list[Factor], problem: dict, seed: int
            ) -> tuple[np.ndarray, str]:
    """``(X in problem space, sampler)`` of a design spec."""
    d, n = len(factors), spec.samples
    if spec.kind == "full_factorial":
        X = np.array(list(itertools.product(*map(_grid, factors))), dtype=float)
        return X.reshape(-1, d), "itertools.product (first factor varies slowest)"
    if spec.kind in ("sobol", "morris"):
        # start-up, and gzsim[analysis] is an optional extra: loaded on use
        from SALib.sample import morris, sobol

        if spec.kind == "sobol":
            return sobol.sample(problem, n, calc_second_order=spec.second_order,
                                scramble=spec.scramble, seed=seed), "SALib.sample.sobol.sample"
        return morris.sample(problem, n, num_levels=spec.num_levels, seed=seed), \
            "SALib.sample.morris.sample"
    # start-up: scipy loads only when needed (the run path avoids it, issue 13)
    from scipy.stats import qmc

    if spec.kind == "latin_hypercube":
        u, name = qmc.LatinHypercube(d, scramble=spec.scramble, rng=seed).random(n), \
            "scipy.stats.qmc.LatinHypercube"
    elif spec.kind == "sobol_sequence":
        u, name = qmc.Sobol(d, scramble=spec.scramble, rng=seed).random_base2(
            int(math.log2(n))), "scipy.stats.qmc.Sobol"
    else:
        u, name = np.random.default_rng(np.random.SeedSequence(seed)).random((n, d)), \
            "numpy.random.default_rng(SeedSequence(seed)).random"
    lo, hi = np.array(problem["bounds"], dtype=float).reshape(-1, 2).T
    return lo + u * (hi - lo), name


def n_points(spec: DesignSpec, factors: list[Factor]) -> int:
    """How many points the design will have (before drawing it)."""
    d, n = len(factors), spec.samples or 0
    if spec.kind == "full_factorial":
        return math.prod(len(_grid(f)) for f in factors)
    if spec.kind == "sobol":
        return n * ((2 * d + 2) if spec.second_order else (d + 2))
    return n * (d + 1) if spec.kind == "morris" else n


def make_design(experiment: Experiment) -> Design:
    """Build the design of an experiment (deterministic in the design seed)."""
    spec, factors, seed = experiment.spec.design, experiment.factors, experiment.design_seed
    where = str(experiment.file) if experiment.file else None
    size = n_points(spec, factors)
    if size > MAX_POINTS or size * experiment.replications > 10 * MAX_POINTS:
        raise ExperimentError([Problem(
            f"the design has {size:,} points x {experiment.replications} replications; that "
            f"is more than gzsim handles in one experiment ({MAX_POINTS:,} points)", where,
            None, "design")])
    problem = salib_problem(factors)
    try:
        X, sampler = _sample(spec, factors, problem, seed)
    except (ValueError, TypeError) as e:  # the sampler refused its settings
        raise ExperimentError([Problem(f"cannot build the '{spec.kind}' design: {e}", where,
                                       None, "design")]) from None
    X = np.asarray(X, dtype=float)
    morris_levels = spec.num_levels if spec.kind == "morris" else None
    points = pd.DataFrame({"point": np.arange(len(X), dtype=np.int64)} | {
        f.name: values_from_problem_space(f, X[:, j], morris_levels)
        for j, f in enumerate(factors)})
    params = spec.model_dump(exclude={"kind"}) | {"seed": seed, "sampler": sampler}
    return Design(spec.kind, factors, points, X, problem, params)
