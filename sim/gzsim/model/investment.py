"""Investment inflow: project arrivals, signing, realisation, construction and ramp-up.

Projects arrive as a non-homogeneous Poisson process, piecewise constant by month: the rate
grows at ``growth_rate_per_year`` and is scaled by the district's attractiveness. Each project is
a SimPy process: signed -> (realised or abandoned) -> lead time -> construction, over which its
capital is disbursed evenly by month -> a linear ramp-up to full operation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from gzsim.model.budget import growth_factor
from gzsim.model.process import Indicator, Process, register
from gzsim.model.streams import UniformBank

if TYPE_CHECKING:
    from gzsim.model.district import District

# Columns of a project's uniform row (see UniformBank).
_U_TIME, _U_SECTOR, _U_SIZE, _U_REALISE, _U_DURATION, _U_SPARE = range(6)


@dataclass(frozen=True)
class SectorDraw:
    """Precomputed per-sector constants for fast draws."""

    name: str
    index: int
    log_mu: float
    log_sigma: float
    months_min: int
    months_max: int
    pollution_class: int
    land_km2_per_usd_m: float


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given mean and coefficient of variation."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


@register
class InvestmentProcess(Process):
    """Generates and runs investment projects in the district."""

    name = "investment"
    section = "investment"
    tick = 30
    monthly_step = False
    INDICATORS = (
        Indicator("investment_usd_m", "US$ m/month", "district", "flow",
                  "fixed-asset investment disbursed that month by projects under construction"),
        Indicator("committed_usd_m", "US$ m/month", "district", "flow",
                  "value of investment projects signed that month (signed is not realised)"),
        Indicator("realised_usd_m", "US$ m/month", "district", "flow",
                  "value of signed projects confirmed as realised that month (will be disbursed)"),
        Indicator("pipeline_usd_m", "US$ m", "district", "stock",
                  "realised money not yet disbursed (waiting for land or construction, or booked "
                  "later)"),
        Indicator("firms_operating", "firms", "district", "stock",
                  "projects that have finished construction and operate (ramping up or at full "
                  "output)"),
        Indicator("attractiveness", "multiplier", "district", "stock",
                  "multiplier on next month's project arrival rate (accessibility, land, "
                  "incentives, labour shortage)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        sc = district.scenario
        self.inv = sc.investment
        self.sectors = []
        for i, (name, s) in enumerate(sc.sectors.items()):
            mu, sigma = lognormal_params(s.size.mean_usd_m, s.size.cv)
            self.sectors.append(SectorDraw(
                name, i, mu, sigma, s.construction_months.min, s.construction_months.max,
                s.pollution_class, s.land_km2_per_usd_m))
        self.n_projects = 0
        self.not_started_usd_m = 0.0  # realised, waiting for construction to start
        self.arrival_rng = district.streams.get("investment.arrivals")
        self.bank = UniformBank(district.streams.get("investment.projects"), 6)
        district.env.process(self.arrivals())

    def base_rate(self, month: int) -> float:
        """Projects per month before feedbacks: the start rate grown at the (decaying) rate."""
        return self.inv.arrival_rate_per_month * growth_factor(
            self.inv.growth_rate_per_year, self.inv.growth_half_life_years, month / 12)

    def arrivals(self):
        env, d = self.d.env, self.d
        for month in range(d.n_months):
            rate = (self.base_rate(month) * d.attractiveness(month)
                    * d.levers(month).investment_rate_multiplier)
            n = int(self.arrival_rng.poisson(rate))
            starts = []
            for _ in range(n):
                k = self.n_projects
                self.n_projects += 1
                starts.append((month + self.bank.row(k)[_U_TIME], k))
            for t, k in sorted(starts):
                env.process(self.project(k, t))
            yield env.timeout(1)

    def pipeline_usd_m(self, month: int) -> float:
        """Realised money not yet disbursed by the end of ``month``: waiting to start
        construction, or booked for later months."""
        led = self.d.ledger
        booked = led.series("investment_usd_m", horizon_only=False)
        return self.not_started_usd_m + float(booked[month + 1:].sum())

    def pick_sector(self, u: float, month: int) -> SectorDraw:
        weights = self.d.sector_weights(month)
        cum = np.cumsum(weights)
        i = int(np.searchsorted(cum, u * cum[-1], side="right"))
        return self.sectors[min(i, len(self.sectors) - 1)]

    def project(self, k: int, t_signed: float):
        """One project's life: the SimPy process."""
        env, d = self.d.env, self.d
        yield env.timeout(t_signed - env.now)
        u = self.bank.row(k)
        month = int(env.now)
        sector = self.pick_sector(u[_U_SECTOR], month)
        size = float(np.exp(sector.log_mu + sector.log_sigma * ndtri(u[_U_SIZE])))
        if not d.screening_accepts(sector, month):
            d.ledger.add("rejected_usd_m", month, size)
            return
        d.ledger.add("committed_usd_m", month, size)
        d.ledger.add("projects_signed", month, 1)
        if u[_U_REALISE] >= self.inv.realisation_share:
            return  # signed but never realised
        d.ledger.add("realised_usd_m", month, size)
        self.not_started_usd_m += size
        yield env.timeout(self.inv.lead_months)
        yield from d.before_construction(sector, size)
        self.not_started_usd_m -= size
        span = sector.months_max - sector.months_min + 1
        duration = sector.months_min + min(int(u[_U_DURATION] * span), span - 1)
        start = int(env.now)
        d.ledger.add_span("investment_usd_m", start, duration, size / duration)
        yield env.timeout(duration)
        op = int(env.now)
        ramp = self.inv.ramp_up_months
        d.ledger.add("firms_started", op, 1)
        d.ledger.add_ramp(f"operating_usd_m.{sector.name}", op, ramp, size)

    def indicators(self, month: int) -> dict[str, float]:
        """Money booked in the ledger this month, the pipeline, firms, next month's pull."""
        led = self.d.ledger
        return {
            "investment_usd_m": led.get("investment_usd_m", month),
            "committed_usd_m": led.get("committed_usd_m", month),
            "realised_usd_m": led.get("realised_usd_m", month),
            "pipeline_usd_m": self.pipeline_usd_m(month),
            "firms_operating": float(led.series("firms_started")[: month + 1].sum()),
            "attractiveness": self.d.attractiveness(month + 1),
        }
