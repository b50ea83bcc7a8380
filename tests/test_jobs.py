"""The jobs process: positions follow intensities and multipliers; the labour pool binds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gzsim import Scenario
from gzsim.model import District, simulate_one
from gzsim.scenario.loader import apply_overrides


def variant(sc, **overrides) -> Scenario:
    return Scenario.model_validate(apply_overrides(sc.model_dump(), {}, overrides))


def test_positions_follow_intensities_and_multipliers(base_scenario):
    d = District(base_scenario, 0, 0)
    month = 50
    capital = {name: 10.0 * (i + 1) for i, name in enumerate(base_scenario.sectors)}
    for name, usd_m in capital.items():
        d.ledger.add(f"operating_usd_m.{name}", month, usd_m)
    d.ledger.add("investment_usd_m", month, 40.0)
    direct, construction, indirect = d.jobs.positions(month)
    exp_direct = sum(base_scenario.sectors[n].direct_jobs_per_usd_m * c
                     for n, c in capital.items())
    j = base_scenario.jobs
    exp_constr = j.construction_job_years_per_usd_m * 12 * 40.0
    mult = j.indirect_jobs_per_direct_job + j.induced_jobs_per_direct_job
    assert direct == pytest.approx(exp_direct)
    assert construction == pytest.approx(exp_constr)
    assert indirect == pytest.approx(mult * (exp_direct + exp_constr))


def test_recorded_positions_equal_formula_every_month(base_scenario):
    d = District(base_scenario, 4, 1)
    out = d.run()
    for m in (40, 120, 200):
        direct, construction, indirect = d.jobs.positions(m)
        assert out["jobs_direct"][m] == pytest.approx(direct)
        assert out["jobs_construction"][m] == pytest.approx(construction)
        assert out["jobs_indirect"][m] == pytest.approx(indirect)


@settings(max_examples=15, deadline=None)
@given(labour=st.floats(0, 50_000), fill=st.floats(0.01, 1.0), migr=st.floats(0, 0.5),
       seed=st.integers(0, 10_000))
def test_employment_never_exceeds_labour_force(base_scenario, labour, fill, migr, seed):
    sc = variant(base_scenario, **{"labour.initial_labour_force_people": labour,
                                   "labour.vacancy_fill_share_per_month": fill,
                                   "labour.migrants_per_vacancy_per_month": migr})
    out = simulate_one(sc, seed, 0)
    assert np.all(out["employment"] <= out["labour_force"] + 1e-9)
    demand = out["jobs_direct"] + out["jobs_construction"] + out["jobs_indirect"]
    assert np.all(out["employment"] <= demand + 1e-9)
    assert np.all(out["vacancies"] >= -1e-9)


def test_hires_add_up_to_employment_growth(base_scenario):
    out = simulate_one(base_scenario, 2, 0)
    # with no layoffs in a month, the month's hires are exactly the growth in employment
    growth = np.diff(np.concatenate([[0.0], out["employment"]]))
    no_layoff = growth >= 0
    np.testing.assert_allclose(out["jobs_created"][no_layoff], growth[no_layoff])


def test_scarce_labour_leaves_vacancies(base_scenario):
    tight = variant(base_scenario, **{"labour.initial_labour_force_people": 1000,
                                      "labour.migrants_per_vacancy_per_month": 0.0,
                                      "labour.natural_growth_rate_per_year": 0.0,
                                      "resettlement.district_share_of_workers": 0.0})
    out = simulate_one(tight, 1, 0)
    assert out["employment"].max() <= 1000
    assert out["vacancies"][-1] > 10_000
