"""Budgets that grow at a (possibly decaying) rate, or follow published envelopes, by month."""

from __future__ import annotations

import math

from gzsim.scenario.schema import TimeSpan, parse_year_month
from gzsim.scenario.schema_network import Budget


def growth_factor(rate_per_year: float, half_life_years: float | None, years: float) -> float:
    """Growth over ``years`` at a rate that halves every ``half_life_years`` (None: constant).

    ``exp(ln(1+g0) * integral_0^t 2**(-s/h) ds)``, i.e. ``(1+g0)**t`` without decay.
    """
    log_g = math.log1p(rate_per_year)
    if half_life_years is None:
        return math.exp(log_g * years)
    h = half_life_years
    return math.exp(log_g * h / math.log(2) * (1 - 0.5 ** (years / h)))


def annual_amount(budget: Budget, years: float) -> float:
    """US$ m per year ``years`` after the budget's start (see :class:`Budget`)."""
    if years < 0:
        return 0.0
    return budget.usd_m_per_year * growth_factor(budget.growth_rate_per_year,
                                                 budget.growth_half_life_years, years)


def budget_start_month(budget: Budget, time: TimeSpan) -> int:
    """Month index at which a budget starts paying (0 without a ``start``)."""
    if budget.start is None:
        return 0
    return time.month_index(*parse_year_month(budget.start))


def calendar_year(time: TimeSpan, month: int) -> int:
    """The calendar year of month ``month`` (0-based) of the run."""
    y0, m0 = parse_year_month(time.start)
    return y0 + (m0 - 1 + month) // 12


def envelope_amount(budget: Budget, year: int) -> float | None:
    """US$ m a year from the published envelopes in calendar ``year`` (None: no envelope yet).

    A year an envelope covers takes its yearly amount (overlapping envelopes add); a year after
    the last envelope keeps the last covered year's amount; a year before the first one has
    none (the growth curve applies).
    """
    envs = list(budget.envelopes.values())
    if not envs or year < min(e.first_year for e in envs):
        return None
    last = max(e.last_year for e in envs)
    y = min(year, last)
    return sum(e.usd_m_per_year for e in envs if e.first_year <= y <= e.last_year)


def monthly_amount(budget: Budget, time: TimeSpan, month: int) -> float:
    """US$ m available in ``month`` (0-based), before policy multipliers."""
    first = budget_start_month(budget, time)
    if month < first:
        return 0.0
    planned = envelope_amount(budget, calendar_year(time, month)) if budget.envelopes else None
    if planned is not None:
        return planned / 12
    return annual_amount(budget, (month - first) / 12) / 12


def monthly_amounts(budget: Budget, time: TimeSpan) -> list[float]:
    """``monthly_amount`` for every month of the run."""
    return [monthly_amount(budget, time, m) for m in range(time.n_months)]


def released(amounts: list[float], budget: Budget, time: TimeSpan, month: int,
             multiplier: float) -> float:
    """US$ m a budget releases in ``month``, times its lever's ``multiplier``.

    The precomputed ``monthly_amounts`` inside the run, computed beyond it.
    """
    base = amounts[month] if 0 <= month < len(amounts) else monthly_amount(budget, time, month)
    return base * multiplier
