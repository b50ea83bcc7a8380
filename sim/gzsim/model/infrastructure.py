"""Road and rail build-out (province scale): funds, crews, segments, lots, accessibility.

Each month opens with the budget's release (x the infrastructure lever), split between the
segment types: plans earmark the money their targets would need on an even schedule at this
month's cost, ``add_km * plan_achievement_t * cost_t(m) / window_months`` (never more than
``plans_max_budget_share`` of the release in all); the rest follows ``budget_share``. The split
does not depend on progress, so more money never moves money away from a type; a network at its
ceiling ``max_km`` spends its share on the existing network (upgrading, repair: disbursed that
month, construction jobs, no km), never on another network (issue 22: the ceilings are
physical). A type's money first pays the unpaid work in progress of the start (an even instalment),
then goes into the type's fund, a SimPy ``Container``.

- Types with ``segment_km`` (expressway and rail: the types whose crews bind) are built by a
  programme process: it takes a segment's cost from the fund, requests a crew (a
  ``simpy.Resource`` of ``max_under_construction_km / segment_km`` crews), and the segment opens
  ``build_months`` later (a timeout callback that releases the crew). The last segment is
  trimmed to the km left under the network ceiling ``max_km``.
- Other types start one lot a month: ``km = min(fund / cost_t(m), room)``, opening
  ``build_months`` later.
- Money a full type (no free crew or room) cannot use this month passes to the types that can,
  by their budget shares (without this rule money would idle in full funds).

Cost per km grows at a real rate: ``cost_t(m) = cost_t(0) * (1 + g_t)^(m/12)``; works disburse
their cost evenly while under way (a rate integrated by month). The work in progress at the start
is split into pieces that open evenly over ``initial_completion_months``, holding crews; the
named works of ``pipeline`` are carved out of it: each is a process that holds its km (and
its crews) until its planned opening plus a random delay (:mod:`gzsim.model.pipeline`). The
start's unpaid instalments cover the whole work in progress, named works included (their
money is not counted twice).
Construction jobs = job-years per US$ m x 12 x money disbursed that month; ``district_share`` of
them are in the district. Accessibility is a weighted network length relative to the start.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from gzsim.model.budget import monthly_amounts, released
from gzsim.model.clock import MonthFlow, at
from gzsim.model.pipeline import STREAM as PIPELINE_STREAM
from gzsim.model.pipeline import draw_openings
from gzsim.model.process import Indicator, Process
from gzsim.scenario.schema import parse_year_month

if TYPE_CHECKING:
    from simpy import Environment

    from gzsim.model.district import District


class InfrastructureProcess(Process):
    """The province network: funds, crews, segments and lots (see the module)."""

    name = "infrastructure"
    section = "infrastructure"
    STOCKS = ("fund.<type built in segments>", "crews.<type built in segments>")
    LOGS = {"segment": ("start", "open"), "lot": ("start", "open"), "wip": ("open",),
            "pipeline": ("under_way", "open")}
    STREAMS = (PIPELINE_STREAM,)
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
        self.types = dict(cfg.segment_types)
        self.segmented = [t for t, s in self.types.items() if s.segment_km is not None]
        self.built_km = {t: s.initial_km for t, s in self.types.items()}
        self.under_km = {t: s.initial_under_construction_km for t, s in self.types.items()}
        self.named_km = dict.fromkeys(self.types, 0.0)  # named works' part of the start's WIP
        self.pipeline_open_month: list[float] = []  # named works' opening times (start())
        for w in cfg.pipeline:
            self.named_km[w.segment_type] += w.km
        self.started_km = dict.fromkeys(self.types, 0.0)  # new starts since the scenario began
        self.owed_usd_m = dict.fromkeys(self.types, 0.0)  # unpaid WIP instalments not yet paid
        self.released_usd_m: list[float] = []  # budget released, month by month
        self.last_year_usd_m = 0.0  # released over the last 12 months (running sum)
        self.disbursed = dict.fromkeys(self.types, 0.0)  # disbursed in the last month closed
        self.holding_usd_m = dict.fromkeys(self.types, 0.0)  # taken for a segment awaiting a crew
        self.cost_started_usd_m = 0.0  # cost of every work started (conservation checks)
        self.passed_usd_m = 0.0  # money passed from full types to others
        self.upgrade_usd_m = 0.0  # this month's money of networks at their ceiling (no km)
        self.upgrade_spent_usd_m = 0.0  # all such money so far
        self.wip_paid_usd_m = 0.0  # released money that paid the start's unpaid work
        self.n_works = 0
        time = district.scenario.time
        self.plans = [(p, time.month_index(*parse_year_month(p.start)),
                       time.month_index(*parse_year_month(p.by))) for p in cfg.plans]
        self.weights = {t: s.accessibility_weight for t, s in self.types.items()}
        self.initial_weighted = sum(self.weights[t] * self.built_km[t] for t in self.types)
        shares = {t: s.budget_share for t, s in self.types.items()}
        total = sum(shares.values())
        self.default_shares = {t: v / total for t, v in shares.items()}
        # costs, the month's release and the plans' earmarks do not depend on the run's state
        self.cost, self._amounts, self.money_usd_m, self.earmarks = district.once(
            "infrastructure.paths", self._paths)
        self._split_open: dict[tuple, dict[str, float]] = district.once(
            "infrastructure.split", dict)  # split() by (month, money, open types); read-only
        self.month = 0
        self.wip_months = {t: s.initial_completion_months for t, s in self.types.items()}
        self.wip_instalment = {t: s.initial_under_construction_km * s.cost_usd_m_per_km
                               * s.initial_unpaid_share / s.initial_completion_months
                               for t, s in self.types.items()}  # US$ m a month, unpaid WIP

    def _paths(self) -> tuple[dict[str, list[float]], list[float], list[float], list[dict]]:
        """Cost per km by type and month, budget before and after levers, plan earmarks."""
        n = self.d.n_months
        self.cost = {t: [s.cost_usd_m_per_km * (1 + s.cost_growth_real_per_year) ** (m / 12)
                         for m in range(n)] for t, s in self.types.items()}
        self._amounts = monthly_amounts(self.cfg.budget, self.d.scenario.time)  # before levers
        return (self.cost, self._amounts, [self.budget(m) for m in range(n)],
                [self._earmarks(m) for m in range(n)])

    def start(self, env: Environment) -> None:
        """Funds, crews, disbursement rates, the start's work in progress, the programmes."""
        # a fund a programme waits on is a Container; a lot type's fund, which nothing waits
        # on (its lot starts when the month opens), is a number
        self.fund = {t: simpy.Container(env) for t in self.segmented}
        self.lot_fund_usd_m = {t: 0.0 for t in self.types if t not in self.fund}
        self.flow = {t: MonthFlow(env) for t in self.types}
        self.crews = {t: simpy.Resource(env, capacity=max(1, int(
            self.types[t].max_under_construction_km // self.types[t].segment_km)))
            for t in self.segmented}
        for t, s in self.types.items():
            self._work_in_progress(t, s)
        self._named_works(env)
        for t in self.segmented:
            env.process(self.programme(t))

    def _work_in_progress(self, t: str, s) -> None:
        """The start's WIP less its named works, opening evenly; the whole WIP's instalment.

        Pieces of about a segment open evenly over ``initial_completion_months``; the unpaid
        instalment covers the whole WIP, named works included (their money counted once).
        """
        wip, k = s.initial_under_construction_km - self.named_km[t], s.initial_completion_months
        if wip > 1e-9:
            n = math.ceil(wip / s.segment_km) if s.segment_km else k  # segments, or lots
            for i in range(n):
                crew = self.crews[t].request() if t in self.crews else None
                at(self.env, (i + 0.5) * k / n,
                   self._opener(t, wip / n, 0.0, crew, self._work_id(), "wip"))
        instalment = self.wip_instalment[t]
        if instalment > 0:
            self.flow[t].change(instalment)
            at(self.env, k, lambda _: self.flow[t].change(-instalment))

    def _named_works(self, env: Environment) -> None:
        """The pipeline's named works: each a process holding its km and crews until it opens.

        It opens at its planned opening plus a random delay (this replication's stream).
        """
        works = self.cfg.pipeline
        if not works:
            return
        self.pipeline_open_month = draw_openings(works, self.cfg.pipeline_delay,
                                                 self.d.scenario.time, self.rng(PIPELINE_STREAM))
        for w, when in zip(works, self.pipeline_open_month, strict=True):
            seg = self.types[w.segment_type].segment_km
            n = max(1, round(w.km / seg)) if seg else 0  # crews of about a segment each
            crews = ([self.crews[w.segment_type].request() for _ in range(n)]
                     if w.segment_type in self.crews else [])
            env.process(self._named_work(w.segment_type, w.km, when, crews, self._work_id()))

    def _named_work(self, t: str, km: float, when: float, crews: list, work: int):
        """One named work: under way from the start, open at ``when`` (its crews released)."""
        if self.log is not None:
            self.log.add(self.env.now, "pipeline", work, "under_way", None, None, t, km)
        yield self.env.timeout(when - self.env.now)
        self._opener(t, km, 0.0, None, work, "pipeline")(None)
        for crew in crews:
            self.crews[t].release(crew)

    def _work_id(self) -> int:
        self.n_works += 1
        return self.n_works - 1

    def budget(self, month: int) -> float:
        """US$ m this month, with the infrastructure lever applied."""
        return released(self._amounts, self.cfg.budget, self.d.scenario.time, month,
                        self.d.levers(month).infrastructure_budget_multiplier)

    def ceiling_left_km(self, t: str) -> float:
        """Km of type ``t`` that may still start under its network ceiling (inf without)."""
        ceiling = self.types[t].max_km
        if ceiling is None:
            return math.inf
        return ceiling - self.built_km[t] - self.under_km[t]

    def complete(self, t: str) -> bool:
        """A type whose network has reached its ceiling (built + under way) takes no money."""
        return self.ceiling_left_km(t) <= 1e-9

    def split(self, month: int, money: float) -> dict[str, float]:
        """Plans' earmarks first (capped), then the default shares: a function of the month.

        A network at its ceiling still receives its share: :meth:`open_month` spends it on
        works on the existing network (upgrading, repair: no km), never on another network.
        """
        key = (month, money)
        hit = self._split_open.get(key)
        if hit is not None:
            return hit
        need = self.earmarks[month]
        total_need = sum(need.values())
        cap = self.cfg.plans_max_budget_share * money
        scale = min(1.0, cap / total_need) if total_need > 0 else 0.0
        out = {t: need[t] * scale for t in self.types}
        rest = money - sum(out.values())
        for t, s in self.default_shares.items():
            out[t] += rest * s
        self._split_open[key] = out
        return out

    def _earmarks(self, month: int) -> dict[str, float]:
        """Money the active plans earmark: add_km x plan_achievement x cost / window months."""
        need = dict.fromkeys(self.types, 0.0)
        for plan, start, by in self.plans:
            if start <= month <= by:
                t = plan.segment_type
                km = plan.add_km * self.cfg.plan_achievement.get(t, 1.0)  # as carried out
                need[t] += km * self.cost[t][month] / (by - start + 1)
        return need

    # --- month opening: release, lots, money that cannot be used --------------------------------
    def open_month(self, month: int) -> None:
        """Release the month's money into the funds, pass on unusable money, start the lots."""
        self.month = month
        money = self.money_usd_m[month]
        self.released_usd_m.append(money)
        self.last_year_usd_m += money - (self.released_usd_m[month - 12] if month >= 12 else 0.0)
        passed, room = 0.0, []
        self.upgrade_usd_m = 0.0
        for t, amount in self.split(month, money).items():
            owed = self.owed_usd_m[t] + (self.wip_instalment[t] if month < self.wip_months[t]
                                         else 0.0)
            pay = min(amount, owed)  # the start's unpaid work is paid first
            self.owed_usd_m[t] = owed - pay
            self.wip_paid_usd_m += pay
            amount -= pay
            if self.complete(t) and not self.holding_usd_m.get(t):
                self._upgrade(t, amount)  # the ceiling is physical: work on what exists
                continue
            level = self.level_usd_m(t)
            usable = self.usable_usd_m(t, month)
            excess = level + amount - usable  # what a full or finished type cannot use
            if excess > 1e-9:
                # usable covers a waiting programme's request (level < request <= usable), so
                # money is only ever taken back from a fund nobody waits on
                keep = amount - excess
                if keep < 0:
                    self._take(t, min(-keep, level))
                passed += excess
                amount = max(keep, 0.0)
            elif usable > 0:
                room.append(t)
            if amount > 0:
                self._add(t, amount)
        if passed > 0:
            self._pass_on(passed, room)
        for t in self.lot_fund_usd_m:
            self._start_lot(t, month)

    def _upgrade(self, t: str, amount: float) -> None:
        """A network at its ceiling spends its money (and its fund) on the existing network."""
        level = self.level_usd_m(t)
        if level > 0:
            self._take(t, level)
        self.upgrade_usd_m += amount + level
        self.upgrade_spent_usd_m += amount + level

    def level_usd_m(self, t: str) -> float:
        """Money in type ``t``'s fund."""
        fund = self.fund.get(t)
        return fund.level if fund is not None else self.lot_fund_usd_m[t]

    def _add(self, t: str, amount: float) -> None:
        if amount <= 0:  # (a SimPy Container takes positive amounts only)
            return
        fund = self.fund.get(t)
        if fund is not None:
            fund.put(amount)
        else:
            self.lot_fund_usd_m[t] += amount

    def _take(self, t: str, amount: float) -> None:
        """Take money from a fund nobody waits on (at once)."""
        fund = self.fund.get(t)
        if fund is not None:
            if amount > 0:
                fund.get(amount)
        else:
            self.lot_fund_usd_m[t] -= amount

    def usable_usd_m(self, t: str, month: int) -> float:
        """Money type ``t`` can put to work this month (free crews or room, network ceiling)."""
        left = self.ceiling_left_km(t)
        if left <= 1e-9:
            return 0.0
        crews = self.crews.get(t)
        if crews is not None:
            if self.holding_usd_m[t] > 0:  # its programme already holds money, waiting for a crew
                return 0.0
            km = min((crews.capacity - crews.count) * self.types[t].segment_km, left)
            # the programme's request for its next segment is usable even without a free crew
            queue = self.fund[t].get_queue
            waiting = queue[0].amount if queue else 0.0
            return max(max(0.0, km) * self.cost[t][month], waiting)
        km = min(self.types[t].max_under_construction_km - self.under_km[t], left)
        return max(0.0, km) * self.cost[t][month]

    def _pass_on(self, money: float, room: list[str]) -> None:
        """Money full or finished types cannot use goes to types with room, by their shares."""
        if not room:  # nobody can use it this month: it waits in the open types' funds
            room = [t for t in self.types if not self.complete(t)] or list(self.types)
        self.passed_usd_m += money
        shares = {t: self.default_shares[t] for t in room}
        total = sum(shares.values())
        for t in room:
            self._add(t, money * (shares[t] / total if total > 0 else 1.0 / len(room)))

    def _start_lot(self, t: str, month: int) -> None:
        """One lot: what the fund pays for and the room allows, opening ``build_months`` on."""
        level = self.lot_fund_usd_m[t]
        if level <= 0:
            return
        cost = self.cost[t][month]
        km = min(level / cost, self.types[t].max_under_construction_km - self.under_km[t],
                 self.ceiling_left_km(t))
        if km <= 1e-12:
            return
        amount = min(km * cost, level)
        self.lot_fund_usd_m[t] = level - amount
        self._begin(t, km, amount, None, "lot")

    def _begin(self, t: str, km: float, cost: float, crew, kind: str) -> None:
        """Works start: km under way, their cost disbursed evenly until they open."""
        b = self.types[t].build_months
        self.under_km[t] += km
        self.started_km[t] += km
        self.cost_started_usd_m += cost
        rate = cost / b
        self.flow[t].change(rate)
        work = self._work_id()
        if self.log is not None:
            self.log.add(self.env.now, kind, work, "start", None, cost, t, km)
        at(self.env, b, self._opener(t, km, rate, crew, work, kind))

    def _opener(self, t: str, km: float, rate: float, crew, work: int, kind: str = "segment"):
        def open_(_event) -> None:
            self.built_km[t] += km
            under = self.under_km[t] - km
            self.under_km[t] = under if under > 1e-9 else 0.0  # no rounding residue
            if rate:
                self.flow[t].change(-rate)
            if crew is not None:
                self.crews[t].release(crew)
            if self.log is not None:
                self.log.add(self.env.now, kind, work, "open", None, None, t, km)
        return open_

    # --- the expressway and rail programmes ---------------------------------------------------
    def programme(self, t: str):
        """Segments of type ``t``: money from the fund, then a crew, then ``build_months``."""
        seg = self.types[t].segment_km
        fund, crews = self.fund[t], self.crews[t]
        while True:
            km = min(seg, self.ceiling_left_km(t))
            if km <= 1e-9:
                return  # the network is complete
            cost = km * self.cost[t][self.month]
            money = fund.get(cost)
            if not money.triggered:  # (taken at once when the fund holds it)
                yield money
            self.holding_usd_m[t] = cost
            crew = crews.request()
            if not crew.triggered:
                yield crew
            self.holding_usd_m[t] = 0.0
            self._begin(t, km, cost, crew, "segment")

    # --- month end ------------------------------------------------------------------------------
    def step(self, month: int) -> None:
        """Close the month's disbursement by type."""
        for t, flow in self.flow.items():
            self.disbursed[t] = flow.close()

    def released_last_year_usd_m(self, month: int) -> float:
        """Budget released over the 12 months to ``month`` (annualised while shorter)."""
        if month == len(self.released_usd_m) - 1:  # the month last opened: the running sum
            return self.last_year_usd_m * 12 / min(month + 1, 12)
        recent = self.released_usd_m[max(0, month - 11): month + 1]
        return sum(recent) * 12 / len(recent) if recent else 0.0

    def disbursed_usd_m(self, month: int, t: str | None = None) -> float:
        """Money that flowed to works in ``month``, the month last closed (one type, or all)."""
        if t is not None:
            return self.disbursed[t]
        return sum(self.disbursed.values()) + self.upgrade_usd_m

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

    def accessibility(self) -> float:
        """The province network's accessibility as it reaches the district (1 = start)."""
        reach = self.d.scenario.attractiveness.reach_share
        return 1 + reach * (self.network_index() - 1)

    def indicators(self, month: int) -> dict[str, float]:
        """Network, work in progress, disbursement, jobs and accessibility this month."""
        return {"expressway_km": self.built_km["expressway"],
                "highway_km": self.built_km["highway"],
                "rural_road_km": self.built_km["rural_road"],
                "rail_km": self.built_km["rail"],
                "expressway_under_construction_km": self.under_km["expressway"],
                "rail_under_construction_km": self.under_km["rail"],
                "expressway_investment_usd_m": self.disbursed["expressway"],
                "rail_investment_usd_m": self.disbursed["rail"],
                "jobs_infrastructure": self.jobs_province(month),
                "accessibility": self.accessibility(),
                "infrastructure_spending_usd_m": self.released_usd_m[month]}
