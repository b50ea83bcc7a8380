"""Naive forecasts a model must beat, made from the same figures the model was fitted to.

A *series* is the figures of one quantity (an indicator read one way: December levels, annual
sums...) known at the forecast origin, as ``{year: value}``. From it:

- ``persistence``: the last figure, unchanged;
- ``linear``: a least-squares straight line through the figures (persistence with one figure);
- ``exponential``: a straight line through their logarithms (needs positive figures; with one
  figure, persistence);
- ``plan_and_record``: the plan in force, scaled by its record so far. The plan is a straight
  path from its base (``base_year``, ``base_value``) to its target (``plan_year``,
  ``plan_value``); the record ``r`` is how much of the planned change the last figure shows
  (``(last - base) / (path(last_year) - base)``, 1 when no figure is later than the base); the
  forecast is ``base + r * (path(year) - base)``. This is what a planner would write down.

A change or a fall of a stock between two years is forecast as the difference of the level
forecasts (the known level where the earlier year is not later than the origin); persistence
carries the last change a year forward (between the last two figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("persistence", "linear", "exponential", "plan_and_record")


@dataclass(frozen=True)
class PlanPath:
    """A published plan for a level: from ``base_value`` in ``base_year`` to ``plan_value``."""

    base_year: int
    base_value: float
    plan_year: int
    plan_value: float

    def at(self, year: float) -> float:
        """The planned level in ``year`` on a straight path (extended past the plan year)."""
        share = (year - self.base_year) / (self.plan_year - self.base_year)
        return self.base_value + (self.plan_value - self.base_value) * share


def persistence(series: dict[int, float], year: int) -> float:
    """The last figure."""
    if not series:
        return float("nan")
    return float(series[max(series)])


def linear(series: dict[int, float], year: int) -> float:
    """A least-squares line through the figures, at ``year``."""
    if len(series) < 2:
        return persistence(series, year)
    x, y = np.array(list(series), float), np.array(list(series.values()), float)
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept + slope * year)


def exponential(series: dict[int, float], year: int) -> float:
    """A least-squares line through the logarithms of the figures, at ``year``."""
    if len(series) < 2:
        return persistence(series, year)
    y = np.array(list(series.values()), float)
    if np.any(y <= 0):
        return float("nan")
    slope, intercept = np.polyfit(np.array(list(series), float), np.log(y), 1)
    return float(np.exp(intercept + slope * year))


def plan_and_record(series: dict[int, float], year: int, plan: PlanPath | None) -> float:
    """The plan scaled by its record so far (see the module)."""
    if plan is None:
        return float("nan")
    later = {y: v for y, v in series.items() if y > plan.base_year}
    record = 1.0
    if later:
        last = max(later)
        planned = plan.at(last) - plan.base_value
        if planned != 0:
            record = (later[last] - plan.base_value) / planned
    return float(plan.base_value + record * (plan.at(year) - plan.base_value))


def level_forecasts(series: dict[int, float], year: int,
                    plan: PlanPath | None = None) -> dict[str, float]:
    """Every method's forecast of the level in ``year``."""
    return {"persistence": persistence(series, year), "linear": linear(series, year),
            "exponential": exponential(series, year),
            "plan_and_record": plan_and_record(series, year, plan)}


def forecasts(series: dict[int, float], year: int, aggregation: str,
              plan: PlanPath | None = None, origin: int | None = None) -> dict[str, float]:
    """Every method's forecast of a figure: a level, or a change/fall between two years."""
    if aggregation not in ("change", "fall"):
        return level_forecasts(series, year, plan)
    end = level_forecasts(series, year, plan)
    known = origin is not None and year - 1 <= origin and (year - 1) in series
    start = ({m: float(series[year - 1]) for m in METHODS} if known
             else level_forecasts(series, year - 1, plan))
    sign = 1.0 if aggregation == "change" else -1.0
    out = {m: sign * (end[m] - start[m]) for m in METHODS}
    out["persistence"] = sign * last_change(series)  # the last change, not a change of zero
    return out


def last_change(series: dict[int, float]) -> float:
    """The change a year between the last two figures (NaN with fewer than two)."""
    if len(series) < 2:
        return float("nan")
    (y0, v0), (y1, v1) = sorted(series.items())[-2:]
    return float((v1 - v0) / (y1 - y0))
