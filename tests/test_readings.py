"""Readings of a source (issue 22, structural uncertainty): weights, fit and forecast by hand.

The quick calibration that writes them into the report is in tests/test_calibration.py
(``test_quick_calibration_from_the_cli_writes_outside_calibration``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from gzsim.calibration.priors import Prior
from gzsim.calibration.problem import TargetView, build_problem
from gzsim.calibration.readings import Reading, forecast_views, readings_of, restricted, summarise
from gzsim.calibration.report import _readings_lines
from gzsim.errors import TargetsError
from gzsim.io.posterior import Posterior
from tests.test_calibration import small_problem

PATH = "infrastructure.budget.envelopes.roads_13fyp.usd_m"


def view(tid: str, value: float, scale: float, year: int, kind: str = "observed") -> TargetView:
    return TargetView(tid, value, scale, "expressway_km", "december", year, None, None, kind,
                      "km")


def test_weights_and_the_posterior_given_a_reading():
    """Particles 10, 10, 20, 20, 20 with weights 1, 1, 1, 1, 4: reading 10 holds 2/8, 20 holds
    6/8, 30 none; the continuous prior is not a reading."""
    choice = {"choice": {"values": [10, 20, 30], "weights": [0.5, 0.3, 0.2]}}
    priors = [Prior(path=PATH, dist=choice, source="test: a prior"),
              Prior(path="investment.realisation_share", dist={"beta": {"a": 3, "b": 5}},
                    source="test: a prior")]
    problem = SimpleNamespace(priors=SimpleNamespace(priors=priors))
    post = Posterior(pd.DataFrame({PATH: [10.0, 10, 20, 20, 20],
                                   "investment.realisation_share": [0.1, 0.2, 0.3, 0.4, 0.5],
                                   "weight": [1.0, 1, 1, 1, 4], "distance": [1.0] * 5}))
    got = readings_of(problem, post)
    assert [(r.value, r.prior_weight, r.posterior_weight) for r in got] == [
        (10, pytest.approx(0.5), pytest.approx(0.25)), (20, pytest.approx(0.3), 0.75),
        (30, pytest.approx(0.2), 0.0)]
    sub = restricted(post, PATH, 20)
    assert list(sub.columns["investment.realisation_share"]) == [0.3, 0.4, 0.5]
    assert list(sub.weights) == pytest.approx([1 / 6, 1 / 6, 4 / 6])
    assert restricted(post, PATH, 30) is None


def test_fit_coverage_and_forecast_of_a_reading_by_hand():
    """Three fitted targets, five good draws and a failed one (NaN: left out)."""
    fitted = [view("a", 10, 2, 2014), view("b", 100, 10, 2016), view("c", 0, 1, 2015)]
    forecast = view("expressway_km_2020", np.nan, 1, 2020, "forecast")
    a, b, c = [8, 9, 10, 11, 20], [100, 110, 120, 130, 140], [5] * 5
    draws = pd.DataFrame({"particle": range(6), "a": [*a, np.nan], "b": [*b, np.nan],
                          "c": [*c, np.nan], "expressway_km_2020": [1, 2, 3, 4, 5, np.nan]})
    row = summarise(Reading(PATH, 20.0, 0.3, 0.75), draws, fitted, [forecast])
    assert row["draws"] == 5
    # medians 10, 120, 5: misses 0, +2, +5 tolerances
    assert row["fit_rms_median"] == pytest.approx(np.sqrt((0 + 4 + 25) / 3))
    per_draw = [np.sqrt(((x - 10) ** 2 / 4 + (y - 100) ** 2 / 100 + 25) / 3)
                for x, y in zip(a, b, strict=True)]
    assert row["fit_rms_draw"] == pytest.approx(np.mean(per_draw))
    # up to 2015: a (band [8, 20] holds 10) yes, c (band [5, 5] misses 0) no; b is 2016
    assert (row["covered"], row["covered_of"]) == (1, 2)
    assert (row["expressway_km_2020_p05"], row["expressway_km_2020_median"],
            row["expressway_km_2020_p95"]) == (1, 3, 5)


def test_a_reading_the_data_rule_out_is_said_not_failed():
    fitted = [view("a", 10, 2, 2014)]
    forecast = view("expressway_km_2020", np.nan, 1, 2020, "forecast")
    gone = summarise(Reading(PATH, 30.0, 0.2, 0.0), None, fitted, [forecast])
    kept = summarise(Reading(PATH, 20.0, 0.8, 1.0),
                     pd.DataFrame({"a": [9.0, 10, 11], "expressway_km_2020": [7.0, 8, 9]}),
                     fitted, [forecast])
    assert gone["draws"] == 0 and np.isnan(gone["fit_rms_median"])
    assert np.isnan(gone["expressway_km_2020_median"])
    text = "\n".join(_readings_lines(pd.DataFrame([kept, gone]), [forecast]))
    assert "| 30 | 0.20 | 0.00 | 0 | no posterior particle takes this reading (weight 0)" in text
    assert "| 20 | 0.80 | 1.00 | 3 | 0.00 |" in text
    assert "| `expressway_km`, end of 2020 | km | 8 [7, 9] | no draws |" in text


def test_a_bad_forecast_is_refused_before_sampling(tmp_path):
    """An unknown indicator or a year outside the scenario is located, not a silent NaN."""
    spec = small_problem(tmp_path, reading=True)
    data = yaml.safe_load(spec.read_text())
    data["reading_forecasts"]["indicators"] = {"expressway_kms": "december"}
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(TargetsError, match="unknown indicator 'expressway_kms'"):
        build_problem(spec)
    data["reading_forecasts"] = {"years": [2020, 2041],
                                 "indicators": {"expressway_km": "december"}}
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(TargetsError, match="forecast year 2041 is outside"):
        forecast_views(build_problem(spec))
