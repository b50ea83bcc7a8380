"""Road and rail build-out (province scale): budgets, plans, crews, accessibility.

Each month the budget is split across segment types: active plans first take what they need to
stay on track (remaining km x cost / months left), the rest follows the default budget shares.
Money accumulates per type; each time a type's fund covers a segment, the segment is funded and
queues for a crew (a plain SimPy Resource, FIFO). A crew builds it in ``build_months``; then its
km count as built. Accessibility is a weighted network length relative to the start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from gzsim.model.budget import monthly_amount
from gzsim.model.process import Indicator, Process, register
from gzsim.scenario.schema import parse_year_month

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class InfrastructureProcess(Process):
    name = "infrastructure"
    section = "infrastructure"
    tick = 10
    INDICATORS = (
        Indicator("expressway_km", "km", "province", "stock",
                  "expressway network length"),
        Indicator("highway_km", "km", "province", "stock",
                  "other highway (roads that are neither expressway nor rural road)"),
        Indicator("rural_road_km", "km", "province", "stock",
                  "rural road network length"),
        Indicator("rail_km", "km", "province", "stock",
                  "railway track length"),
        Indicator("accessibility", "index (start = 1)", "district", "stock",
                  "accessibility of the district through the provincial network"),
        Indicator("infrastructure_spending_usd_m", "US$ m/month", "province", "flow",
                  "road and rail budget released that month (after policy multipliers)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        cfg = district.scenario.infrastructure
        assert cfg is not None
        self.cfg = cfg
        self.types = dict(cfg.segment_types)
        self.crews = simpy.Resource(district.env, capacity=cfg.crews)
        self.built_km = {t: s.initial_km for t, s in self.types.items()}
        self.funded_km = dict(self.built_km)  # built + funded (underway or waiting for a crew)
        self.funds_usd_m = dict.fromkeys(self.types, 0.0)
        time = district.scenario.time
        self.plans = [(p, time.month_index(*parse_year_month(p.start)),
                       time.month_index(*parse_year_month(p.by))) for p in cfg.plans]
        self.plan_baseline: dict[str, float] = {}
        w = {t: s.accessibility_weight for t, s in self.types.items()}
        self.weights = w
        self.initial_weighted = sum(w[t] * self.built_km[t] for t in self.types)
        shares = {t: s.budget_share for t, s in self.types.items()}
        total = sum(shares.values())
        self.default_shares = {t: v / total for t, v in shares.items()}

    def budget(self, month: int) -> float:
        """US$ m this month, with the infrastructure lever applied."""
        mult = self.d.levers(month).infrastructure_budget_multiplier
        return monthly_amount(self.cfg.budget, self.d.scenario.time, month) * mult

    def split(self, month: int, money: float) -> dict[str, float]:
        """Plans first (what keeps them on track), then default shares."""
        need = dict.fromkeys(self.types, 0.0)
        for plan, start, by in self.plans:
            if not start <= month <= by:
                continue
            t = plan.segment_type
            base = self.plan_baseline.setdefault(plan.name, self.funded_km[t])
            remaining_km = plan.add_km - (self.funded_km[t] - base)
            if remaining_km > 0:
                per_month = remaining_km * self.types[t].cost_usd_m_per_km / (by - month + 1)
                need[t] += max(0.0, per_month - self.funds_usd_m[t])
        total_need = sum(need.values())
        scale = min(1.0, money / total_need) if total_need > 0 else 0.0
        out = {t: need[t] * scale for t in self.types}
        rest = money - sum(out.values())
        for t, s in self.default_shares.items():
            out[t] += rest * s
        return out

    def step(self, month: int) -> None:
        money = self.budget(month)
        for t, amount in self.split(month, money).items():
            self.funds_usd_m[t] += amount
            seg = self.types[t]
            cost = seg.segment_km * seg.cost_usd_m_per_km
            while self.funds_usd_m[t] >= cost:
                self.funds_usd_m[t] -= cost
                self.funded_km[t] += seg.segment_km
                self.d.env.process(self.segment(t))

    def segment(self, t: str):
        """One funded segment: wait for a crew, build, add its km."""
        seg = self.types[t]
        with self.crews.request() as req:
            yield req
            yield self.d.env.timeout(seg.build_months)
        self.built_km[t] += seg.segment_km

    def network_index(self) -> float:
        """Weighted network length relative to the start (1 = the initial network)."""
        now = sum(self.weights[t] * self.built_km[t] for t in self.types)
        return now / self.initial_weighted

    def indicators(self, month: int) -> dict[str, float]:
        reach = self.d.scenario.attractiveness.reach_share
        return {"expressway_km": self.built_km["expressway"],
                "highway_km": self.built_km["highway"],
                "rural_road_km": self.built_km["rural_road"],
                "rail_km": self.built_km["rail"],
                "accessibility": 1 + reach * (self.network_index() - 1),
                "infrastructure_spending_usd_m": self.budget(month)}
