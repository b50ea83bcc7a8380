"""Scenario sections of the built environment: road/rail network, district land, attractiveness.

The network is modelled at the province scale (the sources' road and rail figures are
Guizhou-wide); land and attractiveness at the district scale. ``reach_share`` in
:class:`Attractiveness` is the explicit link between the two scales.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gzsim.scenario.types import (
    Frozen,
    NonNeg,
    Positive,
    Rate,
    Share,
    YearMonth,
    parse_year_month,
)

SEGMENT_TYPES = ("expressway", "highway", "rural_road", "rail")
SegmentName = Literal["expressway", "highway", "rural_road", "rail"]


class Envelope(Frozen):
    """A published multi-year spending plan: ``usd_m`` over the calendar years it covers.

    Each covered year gets ``usd_m / years * achievement``: ``achievement`` is the share of
    such plans that is carried out (estimated from the previous plan period's record; an
    uncertain parameter in the calibration's priors).
    """

    first_year: Annotated[int, Field(ge=1900, le=2200)]
    last_year: Annotated[int, Field(ge=1900, le=2200)]
    usd_m: NonNeg  # the envelope over all its years (constant prices of the scenario)
    achievement: Positive = 1.0  # share of the plan carried out
    source: str = ""  # where the envelope comes from

    @model_validator(mode="after")
    def _order(self) -> Envelope:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year ({self.last_year}) is before first_year "
                             f"({self.first_year})")
        return self

    @property
    def usd_m_per_year(self) -> float:
        """The amount each covered year receives (achievement applied)."""
        return self.usd_m / (self.last_year - self.first_year + 1) * self.achievement


class Budget(Frozen):
    """An annual budget that grows at a rate that may decay (halve every ``half_life``).

    Annual amount ``t`` years after ``start``: ``B0 * exp(ln(1+g0) * integral of 0.5**(s/h))``,
    i.e. ``B0 * (1+g0)**t`` when ``growth_half_life_years`` is unset.
    """

    usd_m_per_year: NonNeg  # amount in the first year
    growth_rate_per_year: Rate = 0.0  # initial growth rate
    growth_half_life_years: Positive | None = None  # growth slows down (None: constant)
    start: str | None = None  # first month with money (default: the scenario's start)
    # published plans: a calendar year an envelope covers takes the envelope's amount instead
    # of the growth curve; years after the last envelope keep its yearly amount (no plan known)
    envelopes: dict[str, Envelope] = Field(default_factory=dict)

    @field_validator("start")
    @classmethod
    def _ym(cls, v: str | None) -> str | None:
        if v is not None:
            parse_year_month(v)
        return v


class SegmentType(Frozen):
    """A kind of link (expressway, highway, rural road, rail): network, work in progress, cost.

    Money is in constant prices of the scenario's price base (``Infrastructure.price_base``);
    the cost of a km grows at a real rate as later links need more bridges and tunnels.
    """

    initial_km: NonNeg  # open to traffic at the scenario's start
    initial_under_construction_km: NonNeg = 0.0  # work in progress at the start
    initial_completion_months: Annotated[int, Field(ge=1, le=240)] = 36  # WIP opens evenly
    initial_unpaid_share: Share = 0.0  # of the WIP's cost still to pay, over the same months
    cost_usd_m_per_km: Positive  # at the scenario's start, constant prices
    cost_growth_real_per_year: Rate = 0.0  # bridge and tunnel shares rise with later links
    build_months: Annotated[int, Field(ge=1, le=240)]  # from start of works to opening
    max_under_construction_km: Positive  # build capacity: km of this type under way at once
    segment_km: Positive | None = None  # built in segments this long, one crew each (crews =
    # capacity / segment_km), when crews can bind; None: one lot of works a month (granularity)
    max_km: Positive | None = None  # network ceiling (a long-run plan); then money goes elsewhere
    budget_share: Share  # share of the budget when no plan steers it (normalised)
    accessibility_weight: NonNeg  # weight of this kind in the accessibility index


class Plan(Frozen):
    """A target: ``add_km`` more of ``segment_type`` between ``start`` and ``by``.

    A plan earmarks money for its type on an even schedule (see the infrastructure process);
    whether the target is reached is an output, not an input.
    """

    name: str
    segment_type: SegmentName
    add_km: Positive
    start: YearMonth
    by: YearMonth
    reading: str = ""  # how the source's wording was mapped to a segment type

    @model_validator(mode="after")
    def _order(self) -> Plan:
        if parse_year_month(self.by) <= parse_year_month(self.start):
            raise ValueError(f"by ({self.by}) must be after start ({self.start})")
        return self


class PipelineWork(Frozen):
    """A named work under construction at the start, with a planned opening (a source's).

    Its ``km`` are part of its type's ``initial_under_construction_km`` (carved out: the rest
    of the start's work in progress keeps opening evenly). It opens at ``planned_opening`` plus
    a random delay (:class:`OpeningDelay`), scaled by the months from ``reading`` (the date of
    the source's progress report) to the planned opening.
    """

    name: str
    segment_type: SegmentName
    km: Positive  # inside the region (e.g. a line's Guizhou section), as known at the reading
    share_complete: Share  # progress the source reports at ``reading`` (provenance)
    reading: YearMonth  # YYYY-MM of the source's progress report
    planned_opening: YearMonth  # YYYY-MM the source plans it to open (a year read as its December)
    source: str = ""
    km_source: str = ""  # where the length comes from (or the assumption and its range)

    @model_validator(mode="after")
    def _order(self) -> PipelineWork:
        if parse_year_month(self.planned_opening) <= parse_year_month(self.reading):
            raise ValueError(f"planned_opening ({self.planned_opening}) must be after reading "
                             f"({self.reading})")
        return self


class OpeningDelay(Frozen):
    """Delay of a named work's opening, as a share of the months it still had to go.

    ``delay = (planned - reading) * max(-1, mean + sd * z)``, z standard normal drawn by
    inversion of one uniform per work (stream ``infrastructure.pipeline``): a schedule overrun
    in proportion to the remaining planned duration; -1 floors the opening at the reading.
    """

    mean_share_of_remaining: Rate = 0.0  # (-1: at the reading; 10: ten times the time to go)
    sd_share_of_remaining: NonNeg = 0.0
    source: str = ""


class Infrastructure(Frozen):
    """Province-scale road and rail build-out, limited by money and by build capacity per type."""

    price_base: str = ""  # what the money's constant prices are (documentation only)
    budget: Budget
    segment_types: dict[SegmentName, SegmentType]
    plans: list[Plan] = Field(default_factory=list)
    plans_max_budget_share: Share = 1.0  # plans' earmarks never take more of a month's money
    # share of a network plan carried out, by segment type (the previous plan period's
    # record; a prior in the calibration): a plan earmarks money for add_km x this
    plan_achievement: dict[SegmentName, Positive] = Field(default_factory=dict)
    construction_job_years_per_usd_m: NonNeg = 0.0  # on-site job-years per US$ m disbursed
    district_share: Share = 0.0  # of the province's works (and their jobs) inside the district
    # named works under construction at the start, carved out of initial_under_construction_km
    pipeline: list[PipelineWork] = Field(default_factory=list)
    pipeline_delay: OpeningDelay = Field(default_factory=OpeningDelay)

    @field_validator("segment_types")
    @classmethod
    def _all_types(cls, v: dict) -> dict:
        missing = set(SEGMENT_TYPES) - set(v)
        if missing:
            raise ValueError(f"missing segment type(s) {sorted(missing)}; "
                             f"expected all of {list(SEGMENT_TYPES)}")
        if sum(s.budget_share for s in v.values()) <= 0:
            raise ValueError("budget shares must not all be zero")
        if sum(s.accessibility_weight * s.initial_km for s in v.values()) <= 0:
            raise ValueError("accessibility needs a positive weight on some existing network")
        return v

    @field_validator("pipeline")
    @classmethod
    def _unique_names(cls, v: list[PipelineWork]) -> list[PipelineWork]:
        names = [w.name for w in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"pipeline work name(s) {twice} appear more than once")
        return v

    @model_validator(mode="after")
    def _pipeline_within_wip(self) -> Infrastructure:
        """Named works are part of their type's work in progress at the start (no double km)."""
        for t, seg in self.segment_types.items():
            works = [w for w in self.pipeline if w.segment_type == t]
            named = sum(w.km for w in works)
            if named > seg.initial_under_construction_km + 1e-9:
                raise ValueError(
                    f"pipeline: the named {t} works ({', '.join(w.name for w in works)}) "
                    f"hold {named:g} km, more than segment_types.{t}."
                    f"initial_under_construction_km ({seg.initial_under_construction_km:g}) "
                    "of which they are a part")
        return self


class FiscalRoom(Frozen):
    """The province's room to co-finance projects, squeezed by its infrastructure spending.

    Stress ``r`` = infrastructure money released over the last 12 months / ``capacity`` (a
    year's amount). The realisation share is multiplied by
    ``max(floor, 1 - realisation_elasticity * max(0, r - stress_threshold))``.
    """

    capacity: Budget  # infrastructure spending the province can carry in a year
    stress_threshold: Positive = 1.0  # r at which funds in place start to fall
    realisation_elasticity: NonNeg = 0.0  # fall in the realisation multiplier per unit of r
    floor: Share = 0.0  # the multiplier never falls below this


class Land(Frozen):
    """District land serviced (roads, utilities, levelling) before firms can locate on it."""

    initial_serviced_km2: NonNeg
    serviceable_share: Share = 1.0  # of the district's area; the rest is mountain or protected
    budget: Budget
    cost_usd_m_per_km2: Positive
    servicing_months: Annotated[int, Field(ge=0, le=240)] = 12  # from spending to usable land
    # land reserve: each month the district also services this share of the gap between its
    # reserve target and the uncommitted land (free + being serviced - claimed); 0 = off
    reserve_target_km2: NonNeg = 0.0
    reserve_refill_share_per_month: Share = 0.0


class Attractiveness(Frozen):
    """Multiplier on project arrivals: a product of explicit, documented effects.

    ``access**access_elasticity`` with ``access = 1 + reach_share * (network_index - 1)``;
    ``min(1, free_land / land_buffer_km2)**land_elasticity`` (floored at ``land_floor``);
    ``1 + incentive_elasticity * tax_incentive_share``;
    ``(1 - shortage)**labour_elasticity``, shortage = 12-month mean of vacancies / positions.
    Elasticities of 0 switch an effect off (multiplier 1).
    """

    reach_share: Share = 1.0  # how much of the province network's gain reaches the district
    access_elasticity: NonNeg = 0.0
    land_buffer_km2: Positive = 1.0  # free serviced land at which land stops limiting
    land_elasticity: NonNeg = 0.0
    land_floor: Share = 0.05
    incentive_elasticity: NonNeg = 0.0
    labour_elasticity: NonNeg = 0.0
