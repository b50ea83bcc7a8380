"""Policy levers in force at a given month, combined across overlapping policies.

Processes never read ``scenario.policies`` directly: they ask the district for the levers of a
month (``district.levers(month)``), so a lever's meaning is defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gzsim.scenario.schema import Scenario, TimeSpan, parse_year_month


@dataclass(frozen=True)
class ActiveLevers:
    """The combined effect of every policy active in one month (neutral values by default)."""

    tax_incentive_share: float = 0.0
    infrastructure_budget_multiplier: float = 1.0
    housing_budget_multiplier: float = 1.0
    land_budget_multiplier: float = 1.0
    investment_rate_multiplier: float = 1.0
    sector_weight_multipliers: dict[str, float] = field(default_factory=dict)
    max_pollution_class: int | None = None
    training_places_per_year: float = 0.0
    active: tuple[str, ...] = ()


def _month(time: TimeSpan, ym: str) -> int:
    y, m = parse_year_month(ym)
    return time.month_index(y, m)


def combine(scenario: Scenario, month: int) -> ActiveLevers:
    """Levers in force in ``month`` (0-based index from the scenario's start)."""
    out: dict = {"tax_incentive_share": 0.0, "infrastructure_budget_multiplier": 1.0,
                 "housing_budget_multiplier": 1.0, "land_budget_multiplier": 1.0,
                 "investment_rate_multiplier": 1.0, "sector_weight_multipliers": {},
                 "max_pollution_class": None, "training_places_per_year": 0.0}
    active = []
    for p in scenario.policies:
        start = _month(scenario.time, p.start)
        end = _month(scenario.time, p.end) if p.end else 10**9
        if not start <= month <= end:
            continue
        active.append(p.name)
        lv = p.levers
        for name in ("infrastructure_budget_multiplier", "housing_budget_multiplier",
                     "land_budget_multiplier", "investment_rate_multiplier"):
            v = getattr(lv, name)
            if v is not None:
                out[name] *= v
        for name in ("tax_incentive_share", "training_places_per_year"):
            v = getattr(lv, name)
            if v is not None:
                out[name] += v
        out["tax_incentive_share"] = min(out["tax_incentive_share"], 1.0)
        if lv.max_pollution_class is not None:
            cur = out["max_pollution_class"]
            out["max_pollution_class"] = lv.max_pollution_class if cur is None else min(
                cur, lv.max_pollution_class)
        for s, m in (lv.sector_weight_multipliers or {}).items():
            out["sector_weight_multipliers"][s] = out["sector_weight_multipliers"].get(s, 1.0) * m
    return ActiveLevers(**out, active=tuple(active))


class PolicySchedule:
    """Precomputed levers for every month of a run (policies change only at month starts)."""

    def __init__(self, scenario: Scenario):
        n = scenario.time.n_months
        cache: dict[tuple[str, ...], ActiveLevers] = {}
        self._by_month: list[ActiveLevers] = []
        for m in range(n):
            lv = combine(scenario, m)
            self._by_month.append(cache.setdefault(lv.active, lv))

    def __call__(self, month: int) -> ActiveLevers:
        return self._by_month[min(max(month, 0), len(self._by_month) - 1)]
