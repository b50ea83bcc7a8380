"""Budgets that grow at a (possibly decaying) rate, paid out by month."""

from __future__ import annotations

import math

from gzsim.scenario.schema import TimeSpan, parse_year_month
from gzsim.scenario.schema_network import Budget


def annual_amount(budget: Budget, years: float) -> float:
    """US$ m per year ``years`` after the budget's start (see :class:`Budget`)."""
    if years < 0:
        return 0.0
    log_g = math.log1p(budget.growth_rate_per_year)
    h = budget.growth_half_life_years
    if h is None:
        return budget.usd_m_per_year * math.exp(log_g * years)
    return budget.usd_m_per_year * math.exp(log_g * h / math.log(2) * (1 - 0.5 ** (years / h)))


def budget_start_month(budget: Budget, time: TimeSpan) -> int:
    if budget.start is None:
        return 0
    return time.month_index(*parse_year_month(budget.start))


def monthly_amount(budget: Budget, time: TimeSpan, month: int) -> float:
    """US$ m available in ``month`` (0-based), before policy multipliers."""
    years = (month - budget_start_month(budget, time)) / 12
    return annual_amount(budget, years) / 12
