"""An EMA Workbench adapter: a gzsim experiment as an ``ema_workbench.ReplicatorModel``.

EMA users can then run their own samplers, evaluators and scenario discovery (PRIM, CART) on
gzsim. Every shipped experiment loads: the model name is made alphanumeric (EMA's rule), and
factors become uncertainties (or levers, for the paths named in ``levers``):

- ``range`` -> ``RealParameter`` (``IntegerParameter`` when ``integer``);
- ``levels`` (a list, or a count placed in a range) -> ``CategoricalParameter``;
- ``distribution`` -> ``RealParameter.from_dist`` with the frozen scipy distribution.

Replications go through EMA's ``ReplicatorModel``: replication ``k`` of every experiment
uses gzsim's seed ``SeedSequence(root_seed, spawn_key=(k,))`` (common random numbers across
EMA experiments). Scalar outcomes become ``ScalarOutcome``s reduced over the replications by
``reduce`` (default the mean, what EMA's optimisers and PRIM need), or, with ``reduce=None``,
``ArrayOutcome``s ``<name>_replications`` holding one value per replication. Monthly series
become ``ArrayOutcome``s (experiments x replications x months; by default the indicators the
scalar outcomes are computed from).

    from gzsim.ema import ema_model
    from ema_workbench import perform_experiments
    model = ema_model("scenarios/experiments/lhs.yaml", replications=3)
    experiments, outcomes = perform_experiments(model, scenarios=50)
    outcomes["employment_2030"].shape    # (50,): mean over the 3 replications
    outcomes["employment"].shape         # (50, 3, 228): experiments x replications x months

Requires the ``ema`` extra (``pip install gzsim[ema]``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from gzsim.execution.tasks import scalar_value
from gzsim.experiments import load_experiment
from gzsim.experiments.spec import frozen_distribution
from gzsim.model import simulate_one
from gzsim.scenario.loader import apply_overrides, validate_scenario


def _identifier(path: str) -> str:
    return path.replace(".", "__")


def model_name(name: str) -> str:
    """EMA model names must be alphanumeric: ``full_factorial`` -> ``fullfactorial``."""
    return re.sub(r"[^A-Za-z0-9]", "", name) or "gzsim"


class GzsimFunction:
    """The callable EMA runs: parameter values and ``replication`` -> outcome dict."""

    def __init__(self, experiment_path: str | Path, series: list[str]):
        self.experiment_path = str(experiment_path)
        exp = load_experiment(experiment_path)
        self.base_data = exp.base_data
        self.paths = {_identifier(f.path): f.path for f in exp.factors}
        self.integer = {_identifier(f.path) for f in exp.factors if f.spec.integer}
        self.outcomes = list(exp.spec.outcomes.scalars)
        self.series = list(series)
        self.root_seed = exp.root_seed

    def __call__(self, replication: int = 0, **kwargs: Any) -> dict[str, Any]:
        """One gzsim run with these factor values and replication ``replication``."""
        values = {self.paths[k]: (int(round(v)) if k in self.integer else v)
                  for k, v in kwargs.items() if k in self.paths}
        sc = validate_scenario(apply_overrides(self.base_data, {}, values))
        arrays = simulate_one(sc, self.root_seed, int(replication))
        out: dict[str, Any] = {o.name: scalar_value(o, arrays[o.indicator], sc.time.start)
                               for o in self.outcomes}
        out.update({name: np.asarray(arrays[name], dtype=float) for name in self.series})
        return out


def parameter(factor: Any):
    """The EMA parameter of one gzsim factor."""
    # start-up, and gzsim[ema] is an optional extra: loaded on use
    from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter

    s, name = factor.spec, _identifier(factor.path)
    if isinstance(s.levels, list):
        return CategoricalParameter(name, s.levels)
    if isinstance(s.levels, int):  # a count of levels placed in the range or distribution
        if s.range is not None:
            values = np.linspace(*s.range, s.levels)
        else:
            values = frozen_distribution(s.distribution).ppf(
                (np.arange(s.levels) + 0.5) / s.levels)
        return CategoricalParameter(name, [float(v) for v in values])
    if s.range is not None:
        lo, hi = s.range
        return IntegerParameter(name, int(lo), int(hi)) if s.integer else \
            RealParameter(name, float(lo), float(hi))
    return RealParameter.from_dist(name, frozen_distribution(s.distribution))


def ema_model(experiment_path: str | Path, levers: list[str] | None = None,
              replications: int | None = None, name: str | None = None,
              series: list[str] | None = None, reduce: Any = np.mean):
    """An EMA ``ReplicatorModel`` for the experiment's factors and outcomes.

    ``replications`` defaults to the experiment's; ``series`` (monthly indicators returned as
    ``ArrayOutcome``) to the indicators of its scalar outcomes; ``reduce`` turns a scalar
    outcome's replications into one value (``None``: keep them, as an ``ArrayOutcome`` named
    ``<outcome>_replications``).
    """
    # start-up, and gzsim[ema] is an optional extra: loaded on use
    from ema_workbench import ArrayOutcome, ReplicatorModel, ScalarOutcome

    exp = load_experiment(experiment_path)
    scalars = list(exp.spec.outcomes.scalars)
    series = list(dict.fromkeys(o.indicator for o in scalars)) if series is None else series
    clash = {o.name for o in scalars} & set(series)
    if clash:
        raise ValueError(f"outcome name(s) {sorted(clash)} are both scalar and series")
    model = ReplicatorModel(model_name(name or exp.name),
                            function=GzsimFunction(experiment_path, series))
    n = int(replications or exp.spec.replications)
    model.replications = [{"replication": k} for k in range(n)]
    chosen = set(levers or [])
    model.uncertainties = [parameter(f) for f in exp.factors if f.path not in chosen]
    model.levers = [parameter(f) for f in exp.factors if f.path in chosen]
    # EMA keeps one outcome class per name for the whole session, so kept replications get
    # their own name: <outcome>_replications
    model.outcomes = [ScalarOutcome(o.name, function=reduce) if reduce is not None else
                      ArrayOutcome(f"{o.name}_replications", variable_name=o.name)
                      for o in scalars] + [ArrayOutcome(s) for s in series]
    return model
