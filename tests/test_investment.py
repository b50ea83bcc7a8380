"""The investment process against what its parameters imply, and money conservation."""

from __future__ import annotations

import numpy as np
import pytest

from gzsim.model import District, simulate_one
from tests.conftest import variant

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
            # signed at a uniform time within month m: construction starts at m + u + lead, so
            # the first and last months of the d disburse half a month's share on average
            kernel = np.zeros(inv.lead_months + d + 1)
            kernel[inv.lead_months:inv.lead_months + d + 1] = 1.0 / d
            kernel[inv.lead_months] = kernel[inv.lead_months + d] = 0.5 / d
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
    out = d.run()
    realised = out["realised_usd_m"].sum()
    disbursed_in_horizon = out["investment_usd_m"].sum() + out["abandoned_usd_m"].sum()
    pipeline = d["investment"].pipeline_usd_m()
    assert realised > 0 and pipeline > 0
    assert disbursed_in_horizon + pipeline == pytest.approx(realised, rel=1e-9)
    assert realised <= out["committed_usd_m"].sum()


def test_realisation_share_zero_means_no_disbursement(base_scenario):
    from gzsim import Scenario
    from gzsim.scenario.loader import apply_overrides

    sc = Scenario.model_validate(apply_overrides(base_scenario.model_dump(), {},
                                                 {"investment.realisation_share": 0.0}))
    out = simulate_one(sc, 1, 0)
    assert out["committed_usd_m"].sum() > 0
    assert out["investment_usd_m"].sum() == 0
    assert out["jobs_direct"].sum() == 0


# --- firm exits, depreciation, fiscal room, common random numbers -------------------------

def test_exits_reduce_firms_and_jobs_can_fall(base_scenario):
    stop = [{"name": "stop", "start": "2020-01", "levers": {"investment_rate_multiplier": 0.0}}]
    no_exit = variant(base_scenario, {"investment.exit_hazard_per_year": 0.0,
                                         "policies": stop})
    exits = variant(base_scenario, {"investment.exit_hazard_per_year": 0.1,
                                       "policies": stop})
    a, b = simulate_one(no_exit, 3, 0), simulate_one(exits, 3, 0)
    assert np.all(np.diff(a["firms_operating"]) >= 0)  # no hazard: firms never close
    assert b["firms_operating"][-1] < a["firms_operating"][-1]
    assert np.any(np.diff(b["firms_operating"]) < 0)
    assert b["jobs_direct"][-1] < a["jobs_direct"][-1]
    # no new projects after 2020: once the last ones ramp up, exits and wear lower direct jobs
    late = base_scenario.time.month_index(2025, 1)
    assert b["jobs_direct"][-1] < b["jobs_direct"][late]


def test_survival_follows_the_hazard(base_scenario):
    """Firms started before 2016 still operating in 2030: about exp(-h x age), checked in sum."""
    h = 0.1
    sc = variant(base_scenario, {"investment.exit_hazard_per_year": h,
                                    "investment.depreciation_rate_per_year": 0.0})
    survived = expected = 0.0
    for k in range(20):
        survived += simulate_one(sc, 8, k)["firms_operating"][-1]
    # expected survivors: every firm that started operating (counted in a run without exits,
    # whose arrivals differ only through the weak labour feedback), times its survival
    for k in range(20):
        d = District(variant(sc, {"investment.exit_hazard_per_year": 0.0}), 8, k)
        out = d.run()
        started = np.diff(np.concatenate([[0.0], out["firms_operating"]]))
        age_months = d.n_months - 1 - np.arange(d.n_months)
        # exit month = op + max(1, ceil(T)), T ~ Exp(h) in months: P(alive at the end) ~
        expected += float((started * np.exp(-h * np.maximum(age_months, 1) / 12)).sum())
    assert survived == pytest.approx(expected, rel=0.08)


def test_depreciated_capital_matches_the_closed_form():
    from gzsim.model.investment import capital_at, monthly_rate

    keep = 1 - monthly_rate(0.08)
    size, op, ramp = 120.0, 10, 12
    for month in (op, op + 5, op + ramp - 1, op + ramp + 30):
        brute = sum(size / ramp * keep ** (month - j)
                    for j in range(op, min(month, op + ramp - 1) + 1))
        assert capital_at(size, op, ramp, month, keep) == pytest.approx(brute)
    # operating from mid-month: the first and last months add half a month's ramp each
    half = capital_at(size, op + 0.5, ramp, op + ramp + 1, keep)
    brute = sum(size / ramp * w * keep ** (op + ramp + 1 - j)
                for j, w in zip(range(op, op + ramp + 1), [0.5] + [1.0] * (ramp - 1) + [0.5],
                                strict=True))
    assert half == pytest.approx(brute)
    # a firm that exits during its ramp-up stops adding capital then
    assert capital_at(size, op, ramp, op + 3, keep, stop=op + 3.25) == pytest.approx(
        sum(size / ramp * w * keep ** (op + 3 - j)
            for j, w in zip(range(op, op + 4), [1, 1, 1, 0.25], strict=True)))
    assert monthly_rate(0.08) == pytest.approx(1 - 0.92 ** (1 / 12))


def test_fiscal_stress_lowers_realisation(base_scenario):
    fr = base_scenario.investment.fiscal_room
    assert fr is not None
    d = District(base_scenario, 1, 0)
    d.run()
    assert d["investment"].fiscal_factor(d.n_months - 1) == 1.0  # the base never breaches it
    tiny = variant(base_scenario, {"investment.fiscal_room.capacity.usd_m_per_year": 1.0})
    com = real = 0.0
    for k in range(8):
        out = simulate_one(tiny, 2, k)
        com += out["committed_usd_m"].sum()
        real += out["realised_usd_m"].sum()
    # stress is huge: the realisation multiplier sits at its floor
    share = base_scenario.investment.realisation_share * fr.floor
    assert real / com == pytest.approx(share, rel=0.25)


def test_investment_reverses_when_fiscal_room_shrinks(repo):
    """Shrinking fiscal room: investment falls by more than 30 % from 2017 to 2020, while the
    base's keeps rising."""
    from gzsim import load_scenario

    totals = {}
    for name in ("base", "fiscal_squeeze"):
        sc = load_scenario(repo / "scenarios" / f"{name}.yaml")
        y = {yr: sc.time.month_index(yr, 1) for yr in (2017, 2020)}
        for k in range(4):
            out = simulate_one(sc, 6, k)
            for yr, m in y.items():
                totals[name, yr] = totals.get((name, yr), 0.0) + out["investment_usd_m"][
                    m:m + 12].sum()
    assert totals["fiscal_squeeze", 2020] < 0.7 * totals["fiscal_squeeze", 2017]
    assert totals["base", 2020] > totals["base", 2017]


def test_a_higher_rate_never_signs_less_by_any_month(neutral_scenario):
    """Without feedbacks, more arrivals add projects: cumulative signings never fewer.

    (Arrivals are a time change of one unit-rate process: a faster clock moves the k-th signing
    earlier, so one month may sign less than before while the running total never does.)
    """
    more = variant(neutral_scenario, {"policies": [{
        "name": "more", "start": "2012-01", "levers": {"investment_rate_multiplier": 1.3}}]})
    for k in range(3):
        a, b = simulate_one(neutral_scenario, 9, k), simulate_one(more, 9, k)
        assert np.all(np.cumsum(b["committed_usd_m"]) >= np.cumsum(a["committed_usd_m"]) - 1e-6)
        assert b["committed_usd_m"].sum() > a["committed_usd_m"].sum()


def test_screening_removes_the_polluting_load(base_scenario):
    screen = variant(base_scenario, {"policies": [{
        "name": "green", "start": "2016-01", "levers": {"max_pollution_class": 0}}]})
    start = base_scenario.time.month_index(2016, 1)
    for k in range(2):
        a, b = simulate_one(base_scenario, 4, k), simulate_one(screen, 4, k)
        assert a["committed_pollution_weighted_usd_m"][start:].sum() > 0
        assert np.all(b["committed_pollution_weighted_usd_m"][start:] == 0)
        np.testing.assert_array_equal(a["committed_pollution_weighted_usd_m"][:start],
                                      b["committed_pollution_weighted_usd_m"][:start])
