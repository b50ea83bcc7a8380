"""The investment process against what its parameters imply, and money conservation."""

from __future__ import annotations

import numpy as np
import pytest

from gzsim.model import District, simulate_one

R = 300  # replications for the statistical checks


def expected_monthly(sc) -> tuple[np.ndarray, np.ndarray]:
    """E[committed] and E[disbursed] per month implied by the parameters (no feedbacks).

    Arrivals in month m: Poisson(rate0 * G(m/12)), G the (decaying) growth factor; a project
    signed in month m starts construction in month m + lead and pays size/d in each of its
    d months, d uniform on [min, max] for its sector; it is realised with probability r.
    """
    n = sc.time.n_months
    inv = sc.investment
    t = np.arange(n) / 12
    if inv.growth_half_life_years is None:
        lam = inv.arrival_rate_per_month * (1 + inv.growth_rate_per_year) ** t
    else:  # growth rate halving every h years: exp(ln(1+g) * integral of 2^(-s/h))
        h = inv.growth_half_life_years
        lam = inv.arrival_rate_per_month * np.exp(
            np.log1p(inv.growth_rate_per_year) * h / np.log(2) * (1 - 0.5 ** (t / h)))
    w = np.array([s.weight for s in sc.sectors.values()])
    p = w / w.sum()
    mean_size = np.array([s.size.mean_usd_m for s in sc.sectors.values()])
    committed = lam * float(p @ mean_size)
    disbursed = np.zeros(n)
    for ps, s in zip(p, sc.sectors.values(), strict=True):
        ds = np.arange(s.construction_months.min, s.construction_months.max + 1)
        for d in ds:
            kernel = np.zeros(inv.lead_months + d)
            kernel[inv.lead_months:] = 1.0 / d
            flow = np.convolve(lam, kernel)[:n]
            disbursed += inv.realisation_share * ps * s.size.mean_usd_m * flow / len(ds)
    return committed, disbursed


@pytest.fixture(scope="module")
def many(neutral_scenario):
    years = neutral_scenario.time.n_months // 12
    com = np.empty((R, years))
    dis = np.empty((R, years))
    for k in range(R):
        out = simulate_one(neutral_scenario, 99, k)
        com[k] = out["committed_usd_m"].reshape(years, 12).sum(1)
        dis[k] = out["investment_usd_m"].reshape(years, 12).sum(1)
    return com, dis


@pytest.mark.parametrize("which", [0, 1])
def test_annual_means_match_formula(neutral_scenario, many, which):
    exp_c, exp_d = expected_monthly(neutral_scenario)
    years = neutral_scenario.time.n_months // 12
    expected = (exp_c if which == 0 else exp_d).reshape(years, 12).sum(1)
    sim = many[which]
    se = sim.std(axis=0, ddof=1) / np.sqrt(R)
    z = (sim.mean(axis=0) - expected) / se
    # 19 years tested: |z| < 4 has a family-wise false alarm rate below 0.2 %.
    assert np.all(np.abs(z[1:]) < 4), z.round(2)


def test_formula_check_would_catch_a_wrong_rate(neutral_scenario, many):
    """The test above has power: a 5 % error in the expected path is detected."""
    exp_c, _ = expected_monthly(neutral_scenario)
    years = neutral_scenario.time.n_months // 12
    expected = 1.05 * exp_c.reshape(years, 12).sum(1)
    sim = many[0]
    z = (sim.mean(axis=0) - expected) / (sim.std(axis=0, ddof=1) / np.sqrt(R))
    assert np.any(np.abs(z) > 4)


def test_money_is_conserved(base_scenario):
    d = District(base_scenario, 5, 0)
    d.run()
    realised = d.ledger.total("realised_usd_m")
    disbursed_in_horizon = d.ledger.series("investment_usd_m").sum()
    pipeline = d.investment.pipeline_usd_m(d.n_months - 1)
    assert realised > 0 and pipeline > 0
    assert disbursed_in_horizon + pipeline == pytest.approx(realised, rel=1e-9)
    assert d.ledger.total("realised_usd_m") <= d.ledger.total("committed_usd_m")


def test_realisation_share_zero_means_no_disbursement(base_scenario):
    from gzsim import Scenario
    from gzsim.scenario.loader import apply_overrides

    sc = Scenario.model_validate(apply_overrides(base_scenario.model_dump(), {},
                                                 {"investment.realisation_share": 0.0}))
    out = simulate_one(sc, 1, 0)
    assert out["committed_usd_m"].sum() > 0
    assert out["investment_usd_m"].sum() == 0
    assert out["jobs_direct"].sum() == 0
