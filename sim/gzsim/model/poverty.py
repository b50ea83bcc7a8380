"""Poverty (province scale): a targeted programme, growth and relocation lift people out.

Why this shape: the figures are province-wide (millions of people), so the drivers are
province-level too — the programme's exit quotas and its goal date, the province's real growth,
and relocation — never the district's employment rate. With stocks of millions, the binomial
noise of individual exits is negligible (relative s.d. ~1e-4); the uncertainty that matters is
province-level, so flows are expected values and randomness enters as annual shocks (growth after
the observed years, programme delivery) drawn up front from this process's own streams. Two
scenarios run with one seed therefore share every shock (common random numbers), and a lever
that moves people into faster-exiting stocks can never raise the number of poor.

Stocks (people): poor not relocated ``P_o``, relocated without a job ``P_r``, relocated with one
``P_j``; ``X`` those who left poverty during the run (at risk of falling back), kept by origin
(relocated or not) because a household that falls back returns to its own kind of stock (a
relocated household stays relocated). ``P + X`` is constant. Each month, in this order
(``q(h) = 1 - exp(-h/12)`` for a rate ``h`` per year):

1. re-entry: ``q(reentry_rate_per_year) * X`` move from ``X`` back into ``P_o`` (or ``P_r``);
2. growth exits: every poor stock loses ``q(growth_elasticity * max(g_y, 0))``, ``g_y`` the
   province's real growth in the calendar year; ``P_j`` also loses ``q(exit_rate_employed)``;
3. relocated households find work: ``q(relocated_job_finding_rate_per_year) * P_r`` -> ``P_j``;
4. programme exits: ``min(Q_m, P)`` taken from the stocks in proportion, with
   ``Q_m = quota_m * d_y`` (``d_y`` the year's delivery shock; a quota is the plan's
   ``people_per_year x achievement``); a net-fall quota ``N_m`` (``net: true``, a published
   "reduce the poor by" plan) makes ``Q_m = max(Q_m, N_m d_y + R_m - G_m)``, ``R_m`` this
   month's re-entries, so the stock falls by ``N_m d_y``; and, from ``goal_from``,
   ``Q_m = max(Q_m, P' / n_m - G_m)``: ``P'`` the poor after step 1, ``n_m`` the months left
   to ``goal_by`` (at least 1: the goal is kept after it), ``G_m`` this month's growth exits
   (they count toward the goal), so the poor fall evenly to zero by the goal date.

Relocation (from the resettlement process): the people waiting to be relocated hold ``W`` poor
(``poor_share_of_relocated`` of them at the start), a part of ``P_o`` that leaves poverty at
``P_o``'s rates until moved; a batch of ``n`` people moves ``n W / N_waiting`` poor from ``P_o``
to ``P_r``. Relocating earlier therefore moves more poor into the faster path, never fewer
(the direction suite holds the housing lever to this).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gzsim.model.process import Indicator, Process
from gzsim.scenario.schema import TimeSpan, parse_year_month
from gzsim.scenario.schema_people import Poverty, Quota

if TYPE_CHECKING:
    from gzsim.model.district import District


def monthly_probability(rate_per_year: float) -> float:
    """Probability of an event within a month for a hazard of ``rate_per_year``."""
    return 1.0 - math.exp(-max(rate_per_year, 0.0) / 12.0)


def quota_per_month(quotas: dict[str, Quota], time: TimeSpan,
                    net: bool | None = None) -> np.ndarray:
    """People per month tasked by the quotas in force in each month (overlapping ones add).

    A quota tasks ``people_per_year x achievement`` (the plan as it is carried out); ``net``
    selects the net-fall quotas (True), the gross ones (False) or all (None).
    """
    out = np.zeros(time.n_months)
    for q in quotas.values():
        if net is not None and q.net != net:
            continue
        start = max(time.month_index(*parse_year_month(q.start)), 0)
        end = (time.month_index(*parse_year_month(q.end)) if q.end else time.n_months - 1)
        if end >= start:
            out[start:min(end, time.n_months - 1) + 1] += q.people_per_year * q.achievement / 12
    return out


def growth_path(cfg: Poverty, years: list[int], rng: np.random.Generator) -> dict[int, float]:
    """Real growth by calendar year: the listed years, then the assumption plus a shock."""
    shocks = rng.normal(0.0, 1.0, len(years))  # drawn for every year: CRN across scenarios
    out = {}
    for y, z in zip(years, shocks, strict=True):
        listed = cfg.real_growth_by_year.get(y)
        out[y] = listed if listed is not None else cfg.real_growth_after + cfg.real_growth_sd * z
    return out


def delivery_shocks(cv: float, years: list[int], rng: np.random.Generator) -> dict[int, float]:
    """Lognormal factors with mean 1 and coefficient of variation ``cv``, one per year."""
    s2 = math.log1p(cv * cv)
    z = rng.normal(0.0, 1.0, len(years))
    return {y: math.exp(-s2 / 2 + math.sqrt(s2) * zi) for y, zi in zip(years, z, strict=True)}


class PovertyProcess(Process):
    """The province's poor, by stock, and the flows between them (see the module)."""

    name = "poverty"
    section = "poverty"
    STREAMS = ("poverty.growth", "poverty.delivery")
    INDICATORS = (
        Indicator("poor_people", "people", "province", "stock",
                  "rural poor of the province (provincial series)"),
        Indicator("people_left_poverty", "people", "province", "stock",
                  "people who left poverty since the start (cumulative, gross of re-entry)"),
        Indicator("people_reentered_poverty", "people", "province", "stock",
                  "people who fell back into poverty after leaving it during the run "
                  "(cumulative)"),
        Indicator("poverty_programme_exits", "people", "province", "stock",
                  "exits credited to the poverty-alleviation programme's quota (cumulative; "
                  "in left poverty)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        cfg = district.scenario.poverty
        assert cfg is not None
        self.cfg = cfg
        time = district.scenario.time
        y0, m0 = parse_year_month(time.start)
        self.year_of = district.once("poverty.year_of", lambda: [
            y0 + (m0 - 1 + m) // 12 for m in range(time.n_months)])
        years = sorted(set(self.year_of))
        self.growth = growth_path(cfg, years, district.streams.get("poverty.growth"))
        self.delivery = delivery_shocks(cfg.programme.delivery_cv, years,
                                        district.streams.get("poverty.delivery"))
        self.quota, self.net_quota = district.once("poverty.quota", lambda: (
            quota_per_month(cfg.programme.quotas, time, net=False),
            quota_per_month(cfg.programme.quotas, time, net=True)))
        prog = cfg.programme
        self.goal_from = (time.month_index(*parse_year_month(prog.goal_from))
                          if prog.goal_from else None)
        self.goal_by = time.month_index(*parse_year_month(prog.goal_by)) if prog.goal_by else None
        self.initial_poor = float(cfg.initial_poor_people)
        # monthly probabilities of the constant rates, and of growth exits by calendar year
        self._q_reentry = monthly_probability(cfg.reentry_rate_per_year)
        self._q_employed = monthly_probability(cfg.exit_rate_employed_per_year)
        self._q_job_finding = monthly_probability(cfg.relocated_job_finding_rate_per_year)
        self._q_growth = {y: monthly_probability(cfg.growth_elasticity * g)
                          for y, g in self.growth.items()}
        self.stocks = {"other": self.initial_poor, "relocated": 0.0, "relocated_job": 0.0}
        # X by origin: left poverty during the run and not fallen back; a household that falls
        # back returns to the stock of its kind (relocated households stay relocated)
        self.exited = {"other": 0.0, "relocated": 0.0}
        self.left_poverty = 0.0  # cumulative gross exits
        self.reentered = 0.0  # cumulative re-entries
        self.programme_exits = 0.0  # cumulative exits credited to the programme
        rs = district.scenario.resettlement
        self.waiting_people = (rs.households_to_relocate * rs.people_per_household
                               if rs is not None else 0.0)
        # W: the poor among the people still to be relocated (a part of P_o)
        self.waiting_poor = min(self.waiting_people * cfg.poor_share_of_relocated,
                                self.initial_poor)

    def relocated(self, people: float) -> None:
        """People moved into new homes; the poor among them change stock.

        The poor among the households still waiting (``W``, part of ``P_o``) leave poverty by
        growth and the programme like the rest of ``P_o``; a batch moves the waiting
        population's current poor share, so relocating later moves fewer poor, never more.
        """
        share = self.waiting_poor / self.waiting_people if self.waiting_people > 0 else 0.0
        moved = min(people * share, self.waiting_poor, self.stocks["other"])
        self.waiting_poor -= moved
        self.waiting_people = max(self.waiting_people - people, 0.0)
        self.stocks["other"] -= moved
        self.stocks["relocated"] += moved

    def programme_target(self, month: int, poor_before: float, growth_exits: float,
                         reentries: float = 0.0) -> float:
        """People the programme lifts out this month, before the stock caps it.

        A net-fall quota (a plan to "reduce the poor by" so many) and the goal count growth
        exits toward them and lift re-entrants again, so the stock falls by the quota's month
        share; under a goal it falls evenly to zero by ``goal_by`` (and stays there).
        """
        delivery = self.delivery[self.year_of[month]]
        target = self.quota[month] * delivery
        if self.net_quota[month] > 0:
            target = max(target, self.net_quota[month] * delivery + reentries - growth_exits)
        if self.goal_from is not None and self.goal_by is not None and month >= self.goal_from:
            share = poor_before / max(self.goal_by - month + 1, 1)
            target = max(target, share - growth_exits)
        return target

    def step(self, month: int) -> None:
        """Re-entry, growth and job exits, job finding, then the programme (module, 1-4)."""
        s = self.stocks
        q_r = self._q_reentry
        back = {k: v * q_r for k, v in self.exited.items()}
        s["other"] += back["other"]
        s["relocated"] += back["relocated"]
        poor_before = sum(s.values())
        other_before = s["other"]
        q_g = self._q_growth[self.year_of[month]]
        q_j = self._q_employed
        out = {k: v * q_g for k, v in s.items()}
        out["relocated_job"] += (s["relocated_job"] - out["relocated_job"]) * q_j
        for k in s:
            s[k] -= out[k]
        found = s["relocated"] * self._q_job_finding
        s["relocated"] -= found
        s["relocated_job"] += found
        poor = sum(s.values())
        growth_exits = sum(out.values())
        prog = min(max(self.programme_target(month, poor_before, growth_exits,
                                             sum(back.values())), 0.0), poor)
        share = prog / poor if poor > 0 else 0.0
        for k in s:
            out[k] += s[k] * share
            s[k] -= s[k] * share
        if other_before > 0:  # the waiting poor leave poverty like the rest of P_o
            self.waiting_poor *= s["other"] / other_before
        self.exited["other"] += out["other"] - back["other"]
        self.exited["relocated"] += (out["relocated"] + out["relocated_job"]
                                     - back["relocated"])
        self.left_poverty += growth_exits + prog
        self.reentered += sum(back.values())
        self.programme_exits += prog

    def poor_people(self) -> float:
        """The poor in every stock."""
        return sum(self.stocks.values())

    def indicators(self, month: int) -> dict[str, float]:
        """The poor, and cumulative exits, re-entries and programme exits."""
        return {"poor_people": self.poor_people(),
                "people_left_poverty": self.left_poverty,
                "people_reentered_poverty": self.reentered,
                "poverty_programme_exits": self.programme_exits}
