"""The EMA Workbench adapter: every shipped experiment loads and runs through EMA's
perform_experiments with replications (ReplicatorModel) and time series (ArrayOutcome), and
PRIM finds a box on the results."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SCENARIOS

ema = pytest.importorskip("ema_workbench", reason="EMA Workbench is not installed "
                          "(pip install gzsim[ema])")

EXPERIMENTS = sorted((SCENARIOS / "experiments").glob("*.yaml"))


def test_model_names_follow_emas_rule():
    from gzsim.ema import model_name

    assert model_name("full_factorial") == "fullfactorial" and model_name("-") == "gzsim"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_experiment_runs_in_ema_and_prim_finds_a_box(path):
    from ema_workbench import (
        ArrayOutcome,
        RealParameter,
        ReplicatorModel,
        SequentialEvaluator,
        perform_experiments,
    )
    from ema_workbench.analysis import prim

    from gzsim.ema import ema_model

    model = ema_model(path, replications=2)
    assert isinstance(model, ReplicatorModel) and model.name.isalnum()
    assert len(model.replications) == 2
    assert any(isinstance(o, ArrayOutcome) for o in model.outcomes)
    if path.stem == "monte_carlo":  # distributions through RealParameter.from_dist
        assert all(isinstance(u, RealParameter) and u.dist is not None
                   for u in model.uncertainties)
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=4, evaluator=evaluator)
    scalar = next(o.name for o in model.outcomes if not isinstance(o, ArrayOutcome))
    series = next(o.name for o in model.outcomes if isinstance(o, ArrayOutcome))
    assert outcomes[scalar].shape == (4,)  # the mean over the 2 replications
    assert outcomes[series].ndim == 3 and outcomes[series].shape[:2] == (4, 2)
    assert np.all(np.isfinite(outcomes[scalar]))
    y = outcomes[scalar]
    x = experiments[[u.name for u in model.uncertainties]]
    box = prim.Prim(x, y >= np.median(y), threshold=0.1).find_box()
    assert len(box.peeling_trajectory) >= 1


def test_replications_can_be_kept():
    from ema_workbench import SequentialEvaluator, perform_experiments

    from gzsim.ema import ema_model

    model = ema_model(EXPERIMENTS[0], replications=2, reduce=None, series=[])
    with SequentialEvaluator(model) as evaluator:
        _, outcomes = perform_experiments(model, scenarios=2, evaluator=evaluator)
    first = model.outcomes[0].name
    assert first.endswith("_replications") and outcomes[first].shape == (2, 2)


def test_replications_share_seeds_across_experiments():
    from gzsim.ema import GzsimFunction

    f = GzsimFunction(SCENARIOS / "experiments" / "lhs.yaml", series=[])
    kw = {"investment__growth_rate_per_year": 0.1, "investment__realisation_share": 0.6,
          "jobs__indirect_jobs_per_direct_job": 0.5, "labour__vacancy_fill_share_per_month": 0.3}
    assert f(replication=1, **kw) == f(replication=1, **kw)
    assert f(replication=0, **kw) != f(replication=1, **kw)
