"""Priors of the free parameters (``calibration/priors.yaml``), as scipy and pyabc distributions.

Every free parameter has a prior with its source or reasoning; a parameter without one is fixed
at the scenario's value. The file is checked against the scenario (each path must be a number
there) and against the targets (each ``evidence`` id must exist), with located errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError, model_validator
from scipy import special, stats

from gzsim.errors import InputError, Problem, TargetsError
from gzsim.io.yamlio import load_yaml, origin_of, problems_from_validation
from gzsim.scenario.types import Frozen

DISTS = {
    "uniform": ("low", "high"),
    "lognormal": ("median", "sigma"),
    "beta": ("a", "b"),
    "truncnormal": ("mean", "sd", "low", "high"),
    # discrete readings of a source (structural uncertainty): each value with its prior weight
    "choice": ("values", "weights"),
}


class Prior(Frozen):
    """One free parameter's prior, with its source or reasoning."""
    path: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]
    dist: dict[str, dict[str, float | list[float]]]
    source: Annotated[str, Field(min_length=10)]  # the source or the reasoning
    evidence: list[str] = Field(default_factory=list)  # target ids behind it

    @model_validator(mode="after")
    def _dist(self) -> Prior:
        if len(self.dist) != 1:
            raise ValueError(f"dist needs exactly one of {', '.join(DISTS)}")
        (kind, args), = self.dist.items()
        if kind not in DISTS:
            raise ValueError(f"unknown distribution '{kind}'; expected one of {', '.join(DISTS)}")
        if set(args) != set(DISTS[kind]):
            raise ValueError(f"{kind} takes {', '.join(DISTS[kind])}; got {', '.join(args)}")
        self.frozen()  # raises on bad parameters
        return self

    @property
    def kind(self) -> str:
        """The distribution's name (``uniform``, ``lognormal``, ``beta``, ``truncnormal``)."""
        return next(iter(self.dist))

    @property
    def args(self) -> dict[str, float]:
        """The distribution's arguments by name."""
        return self.dist[self.kind]

    def _choice(self) -> Any:
        """Discrete readings: ``values`` with prior ``weights`` (normalised)."""
        a = self.args
        values, weights = a["values"], a["weights"]
        if not isinstance(values, list) or not isinstance(weights, list) \
                or len(values) != len(weights) or len(values) < 2:
            raise ValueError("choice needs lists values and weights of the same length (>= 2)")
        if len(set(values)) != len(values) or min(weights) <= 0:
            raise ValueError("choice needs distinct values and positive weights")
        order = np.argsort(values)
        w = np.asarray(weights, float)[order]
        return stats.rv_discrete(values=(np.asarray(values, float)[order], w / w.sum()))

    @property
    def discrete(self) -> bool:
        """True for a choice between readings (no density: a probability per value)."""
        return self.kind == "choice"

    def scipy_args(self) -> tuple[str, tuple[float, ...]]:
        """(scipy.stats name, positional args) of this prior."""
        a = self.args
        if any(isinstance(v, list) for v in a.values()):
            raise ValueError(f"{self.kind} takes numbers, not lists")
        if self.kind == "uniform":
            if not a["low"] < a["high"]:
                raise ValueError("uniform needs low < high")
            return "uniform", (a["low"], a["high"] - a["low"])
        if self.kind == "lognormal":
            if a["median"] <= 0 or a["sigma"] <= 0:
                raise ValueError("lognormal needs median > 0 and sigma > 0")
            return "lognorm", (a["sigma"], 0.0, a["median"])
        if self.kind == "beta":
            if a["a"] <= 0 or a["b"] <= 0:
                raise ValueError("beta needs a > 0 and b > 0")
            return "beta", (a["a"], a["b"])
        if a["sd"] <= 0 or not a["low"] < a["high"]:
            raise ValueError("truncnormal needs sd > 0 and low < high")
        lo, hi = (a["low"] - a["mean"]) / a["sd"], (a["high"] - a["mean"]) / a["sd"]
        return "truncnorm", (lo, hi, a["mean"], a["sd"])

    def frozen(self) -> Any:
        """The prior as a frozen scipy distribution (``rv_discrete`` for ``choice``)."""
        if self.kind == "choice":
            return self._choice()
        name, args = self.scipy_args()
        return getattr(stats, name)(*args)

    def describe(self) -> str:
        """``kind(arg=value, ...)`` for reports."""
        def fmt(v: float | list[float]) -> str:
            return "[" + ", ".join(f"{x:g}" for x in v) + "]" if isinstance(v, list) else f"{v:g}"

        return f"{self.kind}(" + ", ".join(f"{k}={fmt(v)}" for k, v in self.args.items()) + ")"


class Fixed(Frozen):
    """A parameter a reader might expect to be free, and why it is not."""
    path: str
    note: Annotated[str, Field(min_length=3)]


class PriorsFile(Frozen):
    """The priors file: free parameters with priors, and the fixed ones named."""
    priors: Annotated[list[Prior], Field(min_length=1)]
    fixed: list[Fixed] = Field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """The free parameters' dotted paths, in file order."""
        return [p.path for p in self.priors]

    def normal_scores_distribution(self) -> Any:
        """The joint prior in normal scores: every parameter standard normal for pyabc.

        ABC-SMC then perturbs particles where every prior has the same scale and light tails;
        on the natural scale a parameter the data leave free (a lognormal's upper tail) let the
        kernel widen generation after generation and the weights collapse onto one particle.
        """
        # start-up, and gzsim[calibration] is an optional extra: loaded on use
        import pyabc

        return pyabc.Distribution(**{p.path: pyabc.RV("norm", 0.0, 1.0) for p in self.priors})

    def from_normal_scores(self, z: dict[str, float]) -> dict[str, float]:
        """Natural-scale values of normal scores: ``F^-1(Phi(z))`` for each prior ``F``."""
        return {p.path: float(p.frozen().ppf(np.clip(special.ndtr(z[p.path]), 1e-12,
                                                        1 - 1e-12)))
                for p in self.priors}

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws (rows) of every prior (columns), for pilots and tests."""
        return np.column_stack([p.frozen().rvs(size=n, random_state=rng) for p in self.priors])


def _number_at(data: dict, path: str) -> bool:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, (int, float)) and not isinstance(node, bool)


def load_priors(path: str | Path, scenario_data: dict | None = None,
                target_ids: set[str] | None = None) -> PriorsFile:
    """Read and validate a priors file; check paths against a scenario mapping if given."""
    try:
        data, origins = load_yaml(path, what="priors file")
    except InputError as e:
        raise TargetsError(e.problems) from None
    file = str(path)
    try:
        pf = PriorsFile.model_validate(data)
    except ValidationError as e:
        raise TargetsError(problems_from_validation(e, origins, PriorsFile, file)) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, p in enumerate(pf.priors):
        _, line = origin_of(origins, ("priors", i, "path"))
        if p.path in seen:
            problems.append(Problem(f"'{p.path}' has two priors", file, line, f"priors.{i}.path"))
        seen.add(p.path)
        if scenario_data is not None and not _number_at(scenario_data, p.path):
            problems.append(Problem(f"'{p.path}' is not a number in the scenario", file, line,
                                    f"priors.{i}.path"))
        for j, tid in enumerate(p.evidence):
            if target_ids is not None and tid not in target_ids:
                _, ln = origin_of(origins, ("priors", i, "evidence", j))
                problems.append(Problem(f"evidence '{tid}' is not a target id", file, ln,
                                        f"priors.{i}.evidence.{j}"))
    for i, f in enumerate(pf.fixed):
        _, line = origin_of(origins, ("fixed", i, "path"))
        if f.path in seen:
            problems.append(Problem(f"'{f.path}' is both fixed and free", file, line,
                                    f"fixed.{i}.path"))
        elif scenario_data is not None and not _number_at(scenario_data, f.path):
            problems.append(Problem(f"fixed '{f.path}' is not a number in the scenario (a "
                                    "mechanism the model no longer has?)", file, line,
                                    f"fixed.{i}.path"))
    if problems:
        raise TargetsError(problems)
    return pf
