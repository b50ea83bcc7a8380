"""An EMA Workbench adapter: a gzsim experiment as an ``ema_workbench.Model``.

EMA users can then run their own samplers, evaluators and scenario discovery (PRIM, CART) on
gzsim. Factors become uncertainties (or levers, for the paths named in ``levers``): a
``range`` is a RealParameter (IntegerParameter when ``integer``), ``levels`` a
CategoricalParameter; scalar outcomes become ScalarOutcomes (mean over ``replications`` runs
with the experiment's root seed: common random numbers across EMA experiments).

    from gzsim.ema import ema_model
    from ema_workbench import perform_experiments
    model = ema_model("scenarios/experiments/lhs.yaml", levers=[])
    experiments, outcomes = perform_experiments(model, scenarios=50)

Requires the ``ema`` extra (``pip install gzsim[ema]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gzsim.execution.tasks import scalar_value
from gzsim.experiments import load_experiment
from gzsim.model import simulate_one
from gzsim.scenario.loader import apply_overrides, validate_scenario


def _identifier(path: str) -> str:
    return path.replace(".", "__")


class GzsimFunction:
    """The callable EMA runs: keyword arguments (EMA parameter names) -> outcome dict."""

    def __init__(self, experiment_path: str | Path, replications: int | None = None):
        self.experiment_path = str(experiment_path)
        exp = load_experiment(experiment_path)
        self.base_data = exp.base_data
        self.paths = {_identifier(f.path): f.path for f in exp.factors}
        self.outcomes = list(exp.spec.outcomes.scalars)
        self.root_seed = exp.root_seed
        self.replications = int(replications or exp.spec.replications)

    def __call__(self, **kwargs: Any) -> dict[str, float]:
        values = {self.paths[k]: v for k, v in kwargs.items() if k in self.paths}
        sc = validate_scenario(apply_overrides(self.base_data, {}, values))
        results: dict[str, list[float]] = {o.name: [] for o in self.outcomes}
        for k in range(self.replications):
            arrays = simulate_one(sc, self.root_seed, k)
            for o in self.outcomes:
                results[o.name].append(scalar_value(o, arrays[o.indicator], sc.time.start))
        return {name: float(np.mean(v)) for name, v in results.items()}


def ema_model(experiment_path: str | Path, levers: list[str] | None = None,
              replications: int | None = None, name: str | None = None):
    """An ``ema_workbench.Model`` for the experiment's factors and scalar outcomes."""
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
    )

    exp = load_experiment(experiment_path)
    levers = set(levers or [])
    function = GzsimFunction(experiment_path, replications)
    model = Model(name or exp.name.replace("-", "_"), function=function)
    uncertainties, lever_params = [], []
    for f in exp.factors:
        s, pname = f.spec, _identifier(f.path)
        if isinstance(s.levels, list):
            p = CategoricalParameter(pname, s.levels)
        elif s.range is not None:
            lo, hi = s.range
            p = IntegerParameter(pname, int(lo), int(hi)) if s.integer else \
                RealParameter(pname, float(lo), float(hi))
        else:
            raise ValueError(f"factor '{f.path}': only range and levels factors map to EMA "
                             "parameters (give a range instead of a distribution)")
        (lever_params if f.path in levers else uncertainties).append(p)
    model.uncertainties = uncertainties
    model.levers = lever_params
    model.outcomes = [ScalarOutcome(o.name) for o in exp.spec.outcomes.scalars]
    return model
