"""The jobs process: positions follow intensities and multipliers; the labour pool binds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gzsim import Scenario
from gzsim.model import District, simulate_one
from gzsim.scenario.loader import apply_overrides


def variant(sc, **overrides) -> Scenario:
    return Scenario.model_validate(apply_overrides(sc.model_dump(), {}, overrides))


def test_positions_follow_intensities_multipliers_and_leakage(base_scenario):
    d = District(base_scenario, 0, 0)
    month = 50
    capital = [10.0 * (i + 1) for i in range(len(base_scenario.sectors))]
    d["investment"].capital[:] = capital
    d["investment"].disbursing_usd_m = 40.0
    direct, construction, indirect, _, _ = d["jobs"].positions(month)
    exp_direct = sum(s.direct_jobs_per_usd_m * c
                     for s, c in zip(base_scenario.sectors.values(), capital, strict=True))
    j = base_scenario.jobs
    exp_constr = (j.construction_job_years_per_usd_m * 12 * 40.0
                  + d["infrastructure"].jobs_district(month))
    local = (j.indirect_jobs_per_direct_job * (1 - j.indirect_leakage_share)
             + j.induced_jobs_per_direct_job * (1 - j.induced_leakage_share))
    assert direct == pytest.approx(exp_direct)
    assert construction == pytest.approx(exp_constr)
    assert indirect == pytest.approx(local * (exp_direct + exp_constr))


def test_leakage_reduces_district_indirect_jobs(base_scenario):
    j = base_scenario.jobs
    assert j.indirect_leakage_share > 0 and j.induced_leakage_share > 0
    tight = variant(base_scenario, **{"jobs.indirect_leakage_share": 0.0,
                                      "jobs.induced_leakage_share": 0.0})
    full = variant(base_scenario, **{"jobs.indirect_leakage_share": 1.0,
                                     "jobs.induced_leakage_share": 1.0})
    m = 150
    ratios = []
    for sc in (tight, base_scenario, full):
        d = District(sc, 0, 0)
        d["investment"].capital[:] = [10.0] * len(sc.sectors)
        direct, construction, indirect, _, _ = d["jobs"].positions(m)
        ratios.append(indirect / (direct + construction))
    assert ratios[0] == pytest.approx(j.indirect_jobs_per_direct_job
                                      + j.induced_jobs_per_direct_job)
    assert ratios[0] > ratios[1] > ratios[2] == 0.0


def test_recorded_positions_equal_formula_every_month(base_scenario):
    """At each month-end tick the recorded jobs are the formulas over the state then."""
    sc = base_scenario
    d = District(sc, 4, 1)
    jobs, inv, net = d["jobs"], d["investment"], d["infrastructure"]
    intensity = [s.direct_jobs_per_usd_m for s in sc.sectors.values()]
    per_usd_m = sc.jobs.construction_job_years_per_usd_m * 12
    net_per_usd_m = sc.infrastructure.construction_job_years_per_usd_m * 12
    expected, step = {}, jobs.step

    def watched(month):  # the state the month-end step reads (before it runs)
        direct = sum(j * k for j, k in zip(intensity, inv.capital, strict=True))
        construction = per_usd_m * inv.disbursing_usd_m + \
            sc.infrastructure.district_share * net_per_usd_m * net.disbursed_usd_m(month)
        expected[month] = (direct, construction)
        step(month)

    jobs.step = watched
    d.run()
    multiplier = jobs.local_multiplier()
    for m in (40, 120, 200):
        rec = d.recorder.rows[m]
        direct, construction = expected[m]
        assert rec["jobs_direct"] == pytest.approx(direct)
        assert rec["jobs_construction"] == pytest.approx(construction)
        assert rec["jobs_indirect"] == pytest.approx(multiplier * (direct + construction))


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


def test_hires_less_layoffs_are_employment_growth(base_scenario):
    out = simulate_one(base_scenario, 2, 0)
    growth = np.diff(np.concatenate([[0.0], out["employment"]]))
    np.testing.assert_allclose(out["jobs_created"] - out["jobs_lost"], growth, atol=1e-6)
    # gross flows: sites close while others open, so every year of building (2014-2019) lays
    # workers off, and by the identity above its hires exceed its net growth
    assert np.all(out["jobs_lost"] >= 0)
    assert (out["jobs_lost"].reshape(-1, 12).sum(axis=1)[2:8] > 0).all()


def test_sites_that_open_as_others_close_create_jobs(base_scenario):
    """Same disbursement, new sites: net positions unchanged, yet positions open and are hired."""
    d = District(base_scenario, 0, 0)
    d.env.run(until=60.5)  # five years of history: employment and positions in place
    jobs, inv = d["jobs"], d["investment"]
    month = 60
    inv.started_usd_m = 0.0  # no new sites this month ...
    p0 = jobs.positions(month)
    inv.started_usd_m = 25.0  # ... or new sites worth 25 US$ m a month as old ones finish
    p1 = jobs.positions(month)
    per_job = base_scenario.jobs.construction_job_years_per_usd_m * 12
    assert p1.construction == pytest.approx(p0.construction)
    assert p1.created - p0.created == pytest.approx((1 + jobs.local_multiplier())
                                                    * per_job * 25.0)
    employed = jobs.employment
    jobs.positions_last = float(math.floor(p1.direct + p1.construction + p1.indirect))
    jobs.works_last = p1.works
    jobs.step(month)
    assert jobs.last["jobs_lost"] > 0  # the closed sites' workers left ...
    assert jobs.last["jobs_created"] > 0  # ... and the new sites hire
    assert jobs.employment == pytest.approx(employed - jobs.last["jobs_lost"]
                                            + jobs.last["jobs_created"])


def test_scarce_labour_leaves_vacancies(base_scenario):
    tight = variant(base_scenario, **{"labour.initial_labour_force_people": 1000,
                                      "labour.migrants_per_vacancy_per_month": 0.0,
                                      "labour.natural_growth_rate_per_year": 0.0,
                                      "resettlement.district_share_of_workers": 0.0})
    out = simulate_one(tight, 1, 0)
    assert out["employment"].max() <= 1000
    assert out["vacancies"][-1] > 10_000


def test_count_draws_are_quantiles_and_monotone():
    """Inversion draws match scipy's quantiles (exactly, or within 2 on the normal branch)."""
    import scipy.stats as st

    from gzsim.model.draws import binomial_inverse, poisson_inverse

    rng = np.random.default_rng(3)
    for _ in range(400):
        u, lam = rng.random(), rng.exponential(80)
        assert poisson_inverse(u, lam) == st.poisson.ppf(u, lam)
        n, p = int(rng.integers(0, 400)), rng.random()
        if n * p * (1 - p) < 400:
            assert binomial_inverse(u, n, p) == st.binom.ppf(u, n, p)
        n = int(rng.integers(3000, 50000))
        assert abs(binomial_inverse(u, n, p) - st.binom.ppf(u, n, p)) <= 2
    for _ in range(100):  # more trials or a higher rate never give a smaller count
        u, p, n = rng.random(), rng.uniform(0.05, 0.95), int(rng.integers(1, 20000))
        ks = [binomial_inverse(u, m, p) for m in range(n, n + 20)]
        assert ks == sorted(ks)
        lams = np.sort(rng.exponential(100, 10))
        assert [poisson_inverse(u, x) for x in lams] == sorted(poisson_inverse(u, x)
                                                                for x in lams)
