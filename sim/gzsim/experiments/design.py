"""Designs: factors -> a table of design points (one row per point, one column per factor).

Samplers are the field's own: ``scipy.stats.qmc`` (Latin hypercube, Sobol sequence),
``numpy`` (plain Monte Carlo), ``SALib.sample`` (Saltelli/Sobol for Sobol indices, Morris).

Every design also keeps ``X``, the sample in *problem space* — the space of the SALib ``problem``
dict it carries (``names``, ``num_vars``, ``bounds``): a factor with a ``range`` is sampled in its
own units (bounds = the range), a factor given by ``levels`` or a ``distribution`` in [0, 1]
(mapped to a level, or through the distribution's quantile function). So ``SALib.analyze.sobol``
/ ``SALib.analyze.morris`` can be run on ``(problem, X, Y)`` directly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gzsim.errors import ExperimentError, Problem
from gzsim.experiments.spec import Experiment, Factor, frozen_distribution

X_PREFIX = "x:"  # design.parquet columns holding the problem-space sample
_EPS = 1e-12
MAX_POINTS = 50_000_000


@dataclass
class Design:
    """Design points of an experiment.

    ``points``: a frame with column ``point`` (0..P-1) and one column per factor (the values
    the scenario gets). ``X``: the sample as drawn, in problem space (see module docs).
    ``problem``: the SALib problem dict. ``params``: the sampler and its settings.
    """

    kind: str
    factors: list[Factor]
    points: pd.DataFrame
    X: np.ndarray
    problem: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @property
    def factor_names(self) -> list[str]:
        """Column names of the factors."""
        return [f.name for f in self.factors]

    def overrides(self, point: int) -> dict[str, Any]:
        """The ``{dotted.path: value}`` overrides of one point (plain Python values)."""
        cols = self.__dict__.get("_cols")
        if cols is None:
            cols = self.__dict__["_cols"] = [
                (f.path, self.points[f.name].to_numpy()) for f in self.factors]
        return {path: _plain(col[point]) for path, col in cols}

    def all_overrides(self) -> list[dict[str, Any]]:
        """The overrides of every point, in order."""
        cols = [self.points[f.name].tolist() for f in self.factors]
        return [{f.path: _plain(v[i]) for f, v in zip(self.factors, cols, strict=True)}
                for i in range(self.n_points)]

    def to_frame(self) -> pd.DataFrame:
        """``points`` plus the problem-space sample as ``x:<factor>`` columns."""
        out = self.points.copy()
        for j, name in enumerate(self.factor_names):
            out[X_PREFIX + name] = self.X[:, j]
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-able description for the manifest."""
        return {"kind": self.kind, "n_points": self.n_points, "params": self.params,
                "factors": [{"name": f.name, "path": f.path, "kind": f.spec.kind}
                            for f in self.factors],
                "problem": self.problem}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def salib_problem(factors: list[Factor]) -> dict[str, Any]:
    """The SALib problem dict of the factors."""
    bounds = [list(map(float, f.spec.range)) if f.spec.kind == "range" else [0.0, 1.0]
              for f in factors]
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": bounds}


def values_from_problem_space(f: Factor, x: np.ndarray, morris_levels: int | None = None
                              ) -> np.ndarray | list:
    """Map one factor's problem-space column to the values the scenario gets."""
    s = f.spec
    x = np.asarray(x, dtype=float)
    if s.kind == "range":
        lo, hi = s.range
        v = np.clip(x, lo, hi)
    elif s.kind == "levels":
        levels = list(s.levels)
        idx = np.minimum(np.floor(np.clip(x, 0, 1) * len(levels)).astype(int), len(levels) - 1)
        if all(isinstance(v, bool) for v in levels):
            return np.array([levels[i] for i in idx], dtype=bool)
        if all(isinstance(v, str) for v in levels):
            return [levels[i] for i in idx]
        v = np.array([float(levels[i]) for i in idx])
        if all(isinstance(v, int) for v in levels):
            return v.astype(np.int64)
    else:
        u = x
        if morris_levels:  # the Morris grid {0, 1/(p-1), ..., 1} -> interior quantiles
            p = morris_levels
            u = (x * (p - 1) + 0.5) / p
        v = frozen_distribution(s.distribution).ppf(np.clip(u, _EPS, 1 - _EPS)).astype(float)
    if s.integer:
        return np.rint(v).astype(np.int64)
    return np.asarray(v, dtype=float)


def _unit_to_problem(factors: list[Factor], u: np.ndarray) -> np.ndarray:
    X = np.array(u, dtype=float, copy=True)
    for j, f in enumerate(factors):
        if f.spec.kind == "range":
            lo, hi = f.spec.range
            X[:, j] = lo + u[:, j] * (hi - lo)
    return X


def _factorial_columns(f: Factor) -> list[float]:
    """Problem-space coordinates of a factor's levels in a full factorial design."""
    s = f.spec
    if s.kind == "levels":
        n = len(s.levels)
        return [(i + 0.5) / n for i in range(n)]
    k = int(s.levels)
    if s.kind == "range":
        lo, hi = s.range
        return list(np.linspace(lo, hi, k)) if k > 1 else [(lo + hi) / 2]
    return [(i + 0.5) / k for i in range(k)]


def _sample(spec: Any, factors: list[Factor], problem: dict, seed: int
            ) -> tuple[np.ndarray, dict[str, Any], str]:
    """``(X in problem space, settings, sampler)`` of a design spec."""
    d, n = len(factors), spec.samples
    if spec.kind == "full_factorial":
        cols = [_factorial_columns(f) for f in factors]
        X = np.array(list(itertools.product(*cols)), dtype=float).reshape(-1, d)
        return X, {"levels": {f.name: len(c) for f, c in zip(factors, cols, strict=True)}}, \
            "itertools.product (first factor varies slowest)"
    params: dict[str, Any] = {"seed": seed, "samples": n}
    if spec.kind in ("latin_hypercube", "sobol_sequence"):
        from scipy.stats import qmc

        params.update(scramble=spec.scramble, optimization=spec.optimization)
        if spec.kind == "latin_hypercube":
            params["strength"] = spec.strength
            u = qmc.LatinHypercube(d, rng=seed, **{k: params[k] for k in (
                "scramble", "strength", "optimization")}).random(n)
        else:
            u = qmc.Sobol(d, scramble=spec.scramble, optimization=spec.optimization,
                          rng=seed).random_base2(int(math.log2(n)))
        name = "LatinHypercube" if spec.kind == "latin_hypercube" else "Sobol"
        return _unit_to_problem(factors, u), params, f"scipy.stats.qmc.{name}"
    if spec.kind == "monte_carlo":
        u = np.random.default_rng(np.random.SeedSequence(seed)).random((n, d))
        return _unit_to_problem(factors, u), params, \
            "numpy.random.default_rng(SeedSequence(seed)).random"
    if spec.kind == "sobol":
        from SALib.sample import sobol as salib_sobol

        params.update(calc_second_order=spec.second_order, scramble=spec.scramble)
        return salib_sobol.sample(problem, n, calc_second_order=spec.second_order,
                                  scramble=spec.scramble, seed=seed), params, \
            "SALib.sample.sobol.sample"
    from SALib.sample import morris as salib_morris

    params.update(num_levels=spec.num_levels, optimal_trajectories=spec.optimal_trajectories)
    return salib_morris.sample(problem, n, num_levels=spec.num_levels,
                               optimal_trajectories=spec.optimal_trajectories, seed=seed), \
        params, "SALib.sample.morris.sample"


def _n_points(spec: Any, factors: list[Factor]) -> int:
    d = len(factors)
    if spec.kind == "full_factorial":
        return math.prod(len(_factorial_columns(f)) for f in factors)
    if spec.kind == "sobol":
        return spec.samples * ((2 * d + 2) if spec.second_order else (d + 2))
    return spec.samples * (d + 1) if spec.kind == "morris" else spec.samples


def make_design(experiment: Experiment) -> Design:
    """Build the design of an experiment (deterministic in the design seed)."""
    spec, factors = experiment.spec.design, experiment.factors
    problem = salib_problem(factors)
    _check_size(_n_points(spec, factors), experiment)
    try:
        X, params, sampler = _sample(spec, factors, problem, experiment.design_seed)
    except (ValueError, TypeError) as e:  # the sampler refused its settings
        raise ExperimentError([Problem(f"cannot build the '{spec.kind}' design: {e}",
                                       str(experiment.file) if experiment.file else None,
                                       None, "design")]) from None
    params["sampler"] = sampler
    X = np.asarray(X, dtype=float)
    morris_levels = spec.num_levels if spec.kind == "morris" else None
    points = pd.DataFrame({"point": np.arange(len(X), dtype=np.int64)})
    for j, f in enumerate(factors):
        points[f.name] = values_from_problem_space(f, X[:, j], morris_levels)
    return Design(kind=spec.kind, factors=factors, points=points, X=X, problem=problem,
                  params=params)


def design_from_frame(frame: pd.DataFrame, factors: list[Factor], kind: str,
                      problem: dict, params: dict) -> Design:
    """Rebuild a :class:`Design` from ``design.parquet`` (see :meth:`Design.to_frame`)."""
    X = np.column_stack([frame[X_PREFIX + f.name].to_numpy(float) for f in factors]) \
        if factors else np.empty((len(frame), 0))
    points = frame[["point", *[f.name for f in factors]]].reset_index(drop=True)
    return Design(kind=kind, factors=factors, points=points, X=X, problem=problem, params=params)


def _check_size(n_points: int, experiment: Experiment) -> None:
    if n_points > MAX_POINTS or n_points * experiment.replications > 10 * MAX_POINTS:
        raise ExperimentError([Problem(
            f"the design has {n_points:,} points x {experiment.replications} replications; "
            f"that is more than gzsim handles in one experiment ({MAX_POINTS:,} points)",
            str(experiment.file) if experiment.file else None, None, "design")])
