"""Road and rail build-out (province scale): budgets, plans, build capacity, accessibility.

One monthly step per replication, no process per segment. Each month, by segment type ``t``:

1. completions booked earlier open (``built_km`` up, ``under_construction_km`` down); the work in
   progress at the start opens evenly over ``initial_completion_months``;
2. the month's release is split: plans earmark the money their targets would need on an even
   schedule at this month's cost, ``add_km * plan_achievement_t * cost_t(m) / window_months``
   (never more than ``plans_max_budget_share`` of the release in all); the rest follows
   ``budget_share``; a network at its ceiling (``max_km``) spends its share on works on the
   existing network (upgrading, repair: construction jobs, no km; not passed to others). The
   split does not depend on progress, so more money never moves money away from a type;
3. the type's fund pays the start's unpaid work in progress first (an even instalment), then
   starts ``km = min(fund / cost_t(m), max_under_construction_km - under_construction_km)``;
   their cost is disbursed evenly over ``build_months`` and they open ``build_months`` later.

Cost per km grows at a real rate: ``cost_t(m) = cost_t(0) * (1 + g_t)^(m/12)``. With ample
capacity, km started = money / cost; capacity is a counter per type, so a type never loses its
place to another. Construction jobs = job-years per US$ m x 12 x money disbursed that month;
``district_share`` of them are in the district. Accessibility is a weighted network length
relative to the start.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from gzsim.model.budget import monthly_amount, monthly_amounts
from gzsim.model.process import Indicator, Process, register
from gzsim.scenario.schema import parse_year_month

if TYPE_CHECKING:
    from gzsim.model.district import District


@register
class InfrastructureProcess(Process):
    """The province network: one monthly step books starts, completions and disbursement."""

    name = "infrastructure"
    section = "infrastructure"
    tick = 10
    INDICATORS = (
        Indicator("expressway_km", "km", "province", "stock",
                  "expressway length open to traffic"),
        Indicator("highway_km", "km", "province", "stock",
                  "other highway (roads that are neither expressway nor rural road)"),
        Indicator("rural_road_km", "km", "province", "stock",
                  "rural road network length"),
        Indicator("rail_km", "km", "province", "stock",
                  "railway operating length"),
        Indicator("expressway_under_construction_km", "km", "province", "stock",
                  "expressway km under construction (started, not yet open)"),
        Indicator("rail_under_construction_km", "km", "province", "stock",
                  "railway km under construction (started, not yet open)"),
        Indicator("expressway_investment_usd_m", "US$ m/month", "province", "flow",
                  "money disbursed on expressway works that month (constant prices)"),
        Indicator("rail_investment_usd_m", "US$ m/month", "province", "flow",
                  "money disbursed on railway works that month (constant prices)"),
        Indicator("jobs_infrastructure", "jobs", "province", "stock",
                  "on-site construction positions of the province's road and rail works "
                  "(a share of them, district_share, counts in the district's jobs)"),
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
        n = district.n_months
        self.types = dict(cfg.segment_types)
        self.built_km = {t: s.initial_km for t, s in self.types.items()}
        self.under_km = {t: s.initial_under_construction_km for t, s in self.types.items()}
        self.funds_usd_m = dict.fromkeys(self.types, 0.0)
        self.started_km = dict.fromkeys(self.types, 0.0)  # new starts since the scenario began
        self.released_usd_m: list[float] = []  # budget released, month by month
        self.last_year_usd_m = 0.0  # released over the last 12 months (running sum)
        # books by month (plain dicts: this is the hot path): km opening, and changes in the
        # monthly disbursement rate (a start adds cost/b for b months: +x at m, -x at m+b)
        self.opening_km: dict[str, defaultdict[int, float]] = {
            t: defaultdict(float) for t in self.types}
        self.rate_change: dict[str, defaultdict[int, float]] = {
            t: defaultdict(float) for t in self.types}
        self.rate_usd_m = dict.fromkeys(self.types, 0.0)  # this month's disbursement by type
        self.upgrade_usd_m = 0.0  # this month's money of networks at their ceiling (no new km)
        self.wip_instalment = {}
        for t, s in self.types.items():
            k = s.initial_completion_months
            for m in range(min(k, n)):
                self.opening_km[t][m] += s.initial_under_construction_km / k
            self.wip_instalment[t] = (s.initial_under_construction_km * s.cost_usd_m_per_km
                                      * s.initial_unpaid_share / k, k)
        time = district.scenario.time
        self.plans = [(p, time.month_index(*parse_year_month(p.start)),
                       time.month_index(*parse_year_month(p.by))) for p in cfg.plans]
        self.weights = {t: s.accessibility_weight for t, s in self.types.items()}
        self.initial_weighted = sum(self.weights[t] * self.built_km[t] for t in self.types)
        shares = {t: s.budget_share for t, s in self.types.items()}
        total = sum(shares.values())
        self.default_shares = {t: v / total for t, v in shares.items()}
        self.stalled = False  # some type holds money it could not use this month
        # costs, the month's release and the plans' earmarks do not depend on the run's state
        self.cost, self._amounts, self.money_usd_m, self.earmarks = district.once(
            "infrastructure.paths", self._paths)
        self._split_open: dict[tuple[int, float], dict[str, float]] = district.once(
            "infrastructure.split_all_open", dict)  # split() with every type open, by month

    def _paths(self) -> tuple[dict[str, list[float]], list[float], list[float], list[dict]]:
        """Cost per km by type and month, budget before and after levers, plan earmarks."""
        n = self.d.n_months
        self.cost = {t: [s.cost_usd_m_per_km * (1 + s.cost_growth_real_per_year) ** (m / 12)
                         for m in range(n)] for t, s in self.types.items()}
        self._amounts = monthly_amounts(self.cfg.budget, self.d.scenario.time)  # before levers
        return (self.cost, self._amounts, [self.budget(m) for m in range(n)],
                [self._earmarks(m) for m in range(n)])

    def budget(self, month: int) -> float:
        """US$ m this month, with the infrastructure lever applied."""
        mult = self.d.levers(month).infrastructure_budget_multiplier
        if 0 <= month < len(self._amounts):
            return self._amounts[month] * mult
        return monthly_amount(self.cfg.budget, self.d.scenario.time, month) * mult

    def complete(self, t: str) -> bool:
        """A type whose network has reached its ceiling (built + under way) takes no money."""
        ceiling = self.types[t].max_km
        return ceiling is not None and self.built_km[t] + self.under_km[t] >= ceiling - 1e-9

    def split(self, month: int, money: float) -> dict[str, float]:
        """Plans' earmarks first (capped), then the default shares: a function of the month.

        A network at its ceiling still receives its share; :meth:`step` spends it on works on
        the existing network (upgrading, repair) that add no km.
        """
        if (month, money) in self._split_open:
            return dict(self._split_open[(month, money)])
        need = self.earmarks[month]
        total_need = sum(need.values())
        cap = self.cfg.plans_max_budget_share * money
        scale = min(1.0, cap / total_need) if total_need > 0 else 0.0
        out = {t: need[t] * scale for t in self.types}
        rest = money - sum(out.values())
        for t, s in self.default_shares.items():
            out[t] += rest * s
        self._split_open[(month, money)] = dict(out)
        return out

    def _earmarks(self, month: int) -> dict[str, float]:
        """Money the active plans earmark this month: add_km x cost / window months."""
        need = dict.fromkeys(self.types, 0.0)
        for plan, start, by in self.plans:
            if start <= month <= by:
                t = plan.segment_type
                km = plan.add_km * self.cfg.plan_achievement.get(t, 1.0)  # as carried out
                need[t] += km * self.cost[t][month] / (by - start + 1)
        return need

    def step(self, month: int) -> None:
        """Open what is due, split the month's money, pay the WIP instalment, start works."""
        money = self.money_usd_m[month]
        self.released_usd_m.append(money)
        self.last_year_usd_m += money - (self.released_usd_m[month - 12] if month >= 12 else 0.0)
        self.upgrade_usd_m = 0.0
        for t, amount in self.split(month, money).items():
            opened = self.opening_km[t].pop(month, 0.0)
            self.built_km[t] += opened
            self.under_km[t] = max(0.0, self.under_km[t] - opened)
            self.funds_usd_m[t] += amount
            if self.complete(t):  # the ceiling is physical: the money works on what exists
                self.upgrade_usd_m += self.funds_usd_m[t]
                self.funds_usd_m[t] = 0.0
            rate = self.rate_usd_m[t] + self.rate_change[t].pop(month, 0.0)
            self.rate_usd_m[t] = rate if rate > 1e-9 else 0.0  # no rounding residue
            instalment, months = self.wip_instalment[t]
            if month < months and instalment > 0:  # the start's unpaid work, paid this month
                self.funds_usd_m[t] -= instalment
                self.rate_usd_m[t] += instalment
                self.rate_change[t][month + 1] -= instalment
            self._start(t, month)
        if self.stalled:
            self._release_stranded(month)
            self.stalled = False

    def _release_stranded(self, month: int) -> None:
        """Pass money a type cannot use this month to the types that still have room.

        Full capacity leaves money idle; it goes to the open types by their budget shares and
        starts works there (so money never stalls while room exists). A network at its
        ceiling passes nothing on: its money works on the existing network (no new km).
        """
        for t in self.types:
            if self.complete(t):
                self.upgrade_usd_m += self.funds_usd_m[t]
                self.funds_usd_m[t] = 0.0
        full = [t for t in self.types if self.funds_usd_m[t] > 0 and self.room_km(t) <= 0]
        room = [t for t in self.types if self.room_km(t) > 0]
        if not full or not room:
            return
        money = sum(self.funds_usd_m[t] for t in full)
        for t in full:
            self.funds_usd_m[t] = 0.0
        shares = {t: self.default_shares[t] for t in room}
        total = sum(shares.values())
        for t in room:
            share = shares[t] / total if total > 0 else 1.0 / len(room)
            self.funds_usd_m[t] += money * share
            self._start(t, month)

    def room_km(self, t: str) -> float:
        """Km of type ``t`` that could still start this month (capacity, network ceiling)."""
        seg = self.types[t]
        room = seg.max_under_construction_km - self.under_km[t]
        if seg.max_km is not None:
            room = min(room, seg.max_km - self.built_km[t] - self.under_km[t])
        return room

    def _start(self, t: str, month: int) -> None:
        """Start what the fund pays for and the capacity allows; book opening and disbursement."""
        seg = self.types[t]
        fund = self.funds_usd_m[t]
        if fund <= 0:
            return
        room = self.room_km(t)
        if room <= 0:
            self.stalled = True
            return
        cost = self.cost[t][month]
        km = min(fund / cost, room)
        if km == room:
            self.stalled = True  # capacity or ceiling reached: leftover money may be idle
        self.funds_usd_m[t] = fund - km * cost
        self.under_km[t] += km
        self.started_km[t] += km
        b = seg.build_months
        self.opening_km[t][month + b] += km
        per_month = km * cost / b
        self.rate_usd_m[t] += per_month  # disbursed from this month ...
        self.rate_change[t][month + b] -= per_month  # ... for b months

    def released_last_year_usd_m(self, month: int) -> float:
        """Budget released over the 12 months to ``month`` (annualised while shorter)."""
        if month == len(self.released_usd_m) - 1:  # the month last stepped: the running sum
            return self.last_year_usd_m * 12 / min(month + 1, 12)
        recent = self.released_usd_m[max(0, month - 11): month + 1]
        return sum(recent) * 12 / len(recent) if recent else 0.0

    def disbursed_usd_m(self, month: int, t: str | None = None) -> float:
        """Money flowing to works in ``month``, the month last stepped (one type, or all)."""
        if t is not None:
            return self.rate_usd_m[t]
        return sum(self.rate_usd_m.values()) + self.upgrade_usd_m

    def jobs_province(self, month: int) -> float:
        """On-site construction positions supported by this month's disbursement."""
        return self.cfg.construction_job_years_per_usd_m * 12 * self.disbursed_usd_m(month)

    def jobs_district(self, month: int) -> float:
        """The district's share of those positions (counted in its construction jobs)."""
        return self.cfg.district_share * self.jobs_province(month)

    def network_index(self) -> float:
        """Weighted network length relative to the start (1 = the initial network)."""
        now = sum(self.weights[t] * self.built_km[t] for t in self.types)
        return now / self.initial_weighted

    def indicators(self, month: int) -> dict[str, float]:
        """Network, work in progress, disbursement, jobs and accessibility this month."""
        reach = self.d.scenario.attractiveness.reach_share
        return {"expressway_km": self.built_km["expressway"],
                "highway_km": self.built_km["highway"],
                "rural_road_km": self.built_km["rural_road"],
                "rail_km": self.built_km["rail"],
                "expressway_under_construction_km": self.under_km["expressway"],
                "rail_under_construction_km": self.under_km["rail"],
                "expressway_investment_usd_m": self.disbursed_usd_m(month, "expressway"),
                "rail_investment_usd_m": self.disbursed_usd_m(month, "rail"),
                "jobs_infrastructure": self.jobs_province(month),
                "accessibility": 1 + reach * (self.network_index() - 1),
                "infrastructure_spending_usd_m": self.released_usd_m[month]}
