"""One annual rule: results, comparisons, calibration targets and sweep outcomes agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gzsim.aggregate import aggregate, annual, annual_unit
from gzsim.calibration.quantities import simulated_values
from gzsim.execution.tasks import scalar_value
from gzsim.experiments.spec import ScalarOutcome
from gzsim.results import annual as results_annual


@pytest.fixture
def series() -> pd.DataFrame:
    dates = pd.date_range("2012-01-01", periods=36, freq="MS")
    rows = []
    for rep in range(2):
        rows.append(pd.DataFrame({"replication": rep, "date": dates,
                                  "jobs_created": np.arange(36.0) + rep,  # a flow
                                  "employment": 100 * np.arange(36.0) + rep}))  # a stock
    return pd.concat(rows, ignore_index=True)


def test_flow_is_summed_and_stock_read_in_december(series):
    a = annual(series, "jobs_created")
    assert a.loc[0, 2013] == sum(range(12, 24)) and a.loc[1, 2013] == sum(range(13, 25))
    s = annual(series, "employment")
    assert s.loc[0, 2013] == 2300 and s.loc[1, 2014] == 3501
    assert annual_unit("jobs_created") == "jobs/year" and annual_unit("employment") == "people"


def test_every_user_of_the_rule_agrees(series):
    for ind, agg in (("jobs_created", "annual_sum"), ("employment", "december")):
        expected = annual(series, ind)[2013].to_numpy()
        long = results_annual(series, ind)
        np.testing.assert_array_equal(long[long["year"] == 2013][ind].to_numpy(), expected)
        np.testing.assert_array_equal(simulated_values(series, ind, agg, 2013), expected)
        out = ScalarOutcome(name="x", indicator=ind, year=2013)  # "annual": by flow / stock
        arr = series[series["replication"] == 1][ind].to_numpy()
        assert scalar_value(out, arr, "2012-01") == expected[1]


def test_other_aggregations_and_errors():
    v = np.arange(24.0)
    assert aggregate(v, "2012-01", "annual_growth", "jobs_created", 2013)[0] == \
        pytest.approx(sum(range(12, 24)) / sum(range(12)) - 1)
    assert aggregate(v, "2012-01", "quarter_sum", year=2013, quarter=2)[0] == 15 + 16 + 17
    assert aggregate(v, "2012-07", "december", year=2012)[0] == 5  # a run starting in July
    assert aggregate(v, "2012-01", "final")[0] == 23
    with pytest.raises(ValueError, match="outside the simulated period"):
        aggregate(v, "2012-01", "december", year=2020)
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate(v, "2012-01", "median", year=2012)
