"""The EMA Workbench adapter: EMA samples gzsim, then scenario discovery runs on the results."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SCENARIOS

ema = pytest.importorskip("ema_workbench", reason="EMA Workbench is not installed "
                          "(pip install gzsim[ema])")


def test_ema_runs_gzsim_and_prim_finds_a_box():
    from ema_workbench import SequentialEvaluator, perform_experiments
    from ema_workbench.analysis import prim

    from gzsim.ema import ema_model

    model = ema_model(SCENARIOS / "experiments" / "lhs.yaml", replications=1)
    assert {u.name for u in model.uncertainties} >= {"investment__growth_rate_per_year"}
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=12, evaluator=evaluator)
    y = outcomes["employment_2030"]
    assert len(y) == 12 and np.all(np.isfinite(y)) and np.ptp(y) > 0
    x = experiments[[u.name for u in model.uncertainties]]
    box = prim.Prim(x, y > np.median(y), threshold=0.5).find_box()
    assert len(box.peeling_trajectory) >= 1
