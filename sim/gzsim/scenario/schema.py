"""The typed, frozen scenario: what a region, its sectors and its policies are.

Only structure, types and ranges live here. Every figure that describes a region lives in YAML
(`scenarios/`), with its unit and source. Field names carry their units. Sections of the
province-scale processes live in their own modules (schema_network, schema_people).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from gzsim.scenario.schema_network import Attractiveness, FiscalRoom, Infrastructure, Land
from gzsim.scenario.schema_people import Poverty, Resettlement, Training
from gzsim.scenario.sections import validate_sections
from gzsim.scenario.types import (
    Frozen,
    Months,
    NonNeg,
    Positive,
    Rate,
    Share,
    YearMonth,
    parse_year_month,
)

__all__ = ["Frozen", "Scenario", "parse_year_month"]


class Region(Frozen):
    """The district the scenario describes (district scale: investment, jobs, land)."""

    name: str
    province: str = ""
    area_km2: Positive
    currency_note: str = ""


class TimeSpan(Frozen):
    """Simulated calendar: one SimPy time unit is one month from ``start``."""

    start: YearMonth = "2012-01"
    end: YearMonth = "2030-12"
    milestone_years: list[int] = Field(default_factory=lambda: [2015, 2017, 2020, 2025, 2030])

    @model_validator(mode="after")
    def _order(self) -> TimeSpan:
        if self.n_months < 1:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    @property
    def n_months(self) -> int:
        y0, m0 = parse_year_month(self.start)
        y1, m1 = parse_year_month(self.end)
        return (y1 - y0) * 12 + (m1 - m0) + 1

    def month_index(self, year: int, month: int = 1) -> int:
        """Index (0-based) of a calendar month in the simulated series."""
        y0, m0 = parse_year_month(self.start)
        return (year - y0) * 12 + (month - m0)


class Discrepancy(Frozen):
    """A model-discrepancy term on forecasts (Kennedy-O'Hagan style), estimated by a backtest.

    After ``after`` indicator ``i`` of replication ``k`` is multiplied by
    ``exp(relative_sd_per_sqrt_year[i] * sqrt(h) * z)``, ``h`` the years since ``after`` and
    ``z`` a standard normal drawn per (root seed, replication, indicator): the same draw in every
    scenario run with that seed, so paired differences keep their sharpness. A network length
    never exceeds its segment type's ``max_km``.
    """

    relative_sd_per_sqrt_year: Annotated[dict[str, NonNeg], Field(min_length=1)]
    after: YearMonth  # the last month of the data the model was fitted to (YYYY-MM)
    source: str = ""  # the backtest it comes from


class RunSettings(Frozen):
    """Defaults for `gzsim run` (the CLI's --replications and --seed override them)."""

    replications: Annotated[int, Field(ge=1, le=100_000)] = 20
    seed: Annotated[int, Field(ge=0)] = 20170716
    # posterior.parquet (gzsim calibrate) replications draw their parameters from; set by the
    # scenario file's top-level `posterior:` (resolved to an absolute path by the loader)
    posterior: str | None = None
    # widens posterior runs' bands after the fitted years (gzsim.discrepancy); None: off
    discrepancy: Discrepancy | None = None
    # assumptions.yaml (ranges of parameters no figure pins) comparisons sample from; set by
    # the scenario file's top-level `assumptions:` (resolved to an absolute path by the loader)
    assumptions: str | None = None


class MonthRange(Frozen):
    """An integer number of months drawn uniformly from [min, max]."""

    min: Annotated[int, Field(ge=1, le=600)]
    max: Annotated[int, Field(ge=1, le=600)]

    @model_validator(mode="after")
    def _order(self) -> MonthRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        return self


class ProjectSize(Frozen):
    """Lognormal project size, given by its mean and coefficient of variation."""

    mean_usd_m: Positive
    cv: Annotated[float, Field(ge=0, le=10)] = 1.0


class Sector(Frozen):
    """An industry that investment projects belong to."""

    weight: NonNeg  # relative share of project arrivals (normalised over sectors)
    size: ProjectSize
    direct_jobs_per_usd_m: NonNeg  # jobs at full operation per US$ m of realised capital
    construction_months: MonthRange
    pollution_class: Annotated[int, Field(ge=0, le=5)] = 0  # 0 clean ... 5 heavy polluter
    land_km2_per_usd_m: NonNeg = 0.0  # serviced land a project occupies per US$ m


class Investment(Frozen):
    """Project arrivals (signing), realisation, construction and ramp-up."""

    arrival_rate_per_month: Positive  # projects signed per month at the start, before feedbacks
    growth_rate_per_year: Rate  # growth of the arrival rate (at the start)
    growth_half_life_years: Positive | None = None  # the growth rate halves (None: constant)
    realisation_share: Share  # probability a signed project is actually built
    lead_months: Months = 6  # from signing to construction start
    ramp_up_months: Annotated[int, Field(ge=1, le=120)] = 12  # linear ramp to full operation
    max_land_wait_months: Months | None = None  # a project waiting longer for land goes away
    exit_hazard_per_year: NonNeg = 0.0  # operating firms close at this hazard
    depreciation_rate_per_year: Share = 0.0  # operating capital wears out (jobs follow it)
    fiscal_room: FiscalRoom | None = None  # province co-financing squeezed by its spending


class Jobs(Frozen):
    """How investment turns into positions (direct, construction, indirect/induced)."""

    construction_job_years_per_usd_m: NonNeg  # construction job-years per US$ m disbursed
    indirect_jobs_per_direct_job: NonNeg  # supplier jobs (IMPLAN/RIMS II type I - 1)
    induced_jobs_per_direct_job: NonNeg  # household-spending jobs (type II - type I)
    indirect_leakage_share: Share = 0.0  # of supplier jobs that fall outside the district
    induced_leakage_share: Share = 0.0  # of household-spending jobs outside the district


class Labour(Frozen):
    """The pool of workers available to the district's employers."""

    initial_labour_force_people: NonNeg
    natural_growth_rate_per_year: Rate = 0.0
    vacancy_fill_share_per_month: Share  # share of fillable vacancies filled each month
    migrants_per_vacancy_per_month: NonNeg = 0.0  # in-migration drawn by open vacancies


class Lever:
    """How a lever combines when policies overlap, its neutral value and the process it moves.

    ``combine`` is ``multiply`` (multipliers), ``add`` (shares and places; ``cap`` bounds the
    sum), ``strictest`` (the smallest limit wins) or ``multiply_each`` (a mapping of multipliers,
    multiplied key by key). Declared once, here; :mod:`gzsim.model.policies` derives the levers
    in force each month from these declarations.
    """

    def __init__(self, combine: str, neutral: Any, acts_on: str, cap: float | None = None):
        self.combine, self.neutral, self.acts_on, self.cap = combine, neutral, acts_on, cap


class Levers(Frozen):
    """What a policy changes while it is active. Unset levers leave the base untouched."""

    tax_incentive_share: Annotated[Share | None, Lever("add", 0.0, "investment", cap=1.0)] = None
    infrastructure_budget_multiplier: Annotated[
        NonNeg | None, Lever("multiply", 1.0, "infrastructure")] = None
    housing_budget_multiplier: Annotated[
        NonNeg | None, Lever("multiply", 1.0, "resettlement")] = None
    land_budget_multiplier: Annotated[NonNeg | None, Lever("multiply", 1.0, "land")] = None
    # e.g. a slowdown in project arrivals
    investment_rate_multiplier: Annotated[
        NonNeg | None, Lever("multiply", 1.0, "investment")] = None
    sector_weight_multipliers: Annotated[
        dict[str, NonNeg] | None, Lever("multiply_each", None, "investment")] = None
    max_pollution_class: Annotated[  # environmental screening
        int | None, Field(ge=0, le=5), Lever("strictest", None, "investment")] = None
    training_places_per_year: Annotated[  # people trained into the labour pool
        NonNeg | None, Lever("add", 0.0, "training")] = None


def lever_declarations() -> dict[str, Lever]:
    """Each lever's :class:`Lever` declaration, by field name."""
    out = {}
    for name, info in Levers.model_fields.items():
        decl = next((m for m in info.metadata if isinstance(m, Lever)), None)
        if decl is None:
            raise TypeError(f"Levers.{name} has no Lever(...) declaration")
        out[name] = decl
    return out


class Policy(Frozen):
    """A named set of levers active from ``start`` to ``end`` (inclusive months)."""

    name: str
    question: str = ""  # what this policy is meant to test or achieve
    # the indicators that answer the question (gzsim compare's headline table)
    indicators: list[str] = Field(default_factory=list)
    start: str
    end: str | None = None
    levers: Levers
    # what it costs the public, lever by lever: the model's spending line that books each
    # lever's money (e.g. land_budget_multiplier: land_spending_usd_m; gzsim compare differences
    # it against the scenario the policy extends). Empty: not a spending policy.
    cost: dict[str, str] = Field(default_factory=dict)
    # what the model cannot say about this policy's question (e.g. training adds no skill):
    # gzsim compare prints it next to the figure instead of letting a near-zero effect speak
    not_modelled: str = ""

    @field_validator("start", "end")
    @classmethod
    def _ym(cls, v: str | None) -> str | None:
        if v is not None:
            parse_year_month(v)
        return v

    @model_validator(mode="after")
    def _order(self) -> Policy:
        if self.end is not None and parse_year_month(self.end) < parse_year_month(self.start):
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @model_validator(mode="after")
    def _cost_levers(self) -> Policy:
        unset = [k for k in self.cost if getattr(self.levers, k, None) is None]
        if unset:
            set_ = [k for k, v in self.levers.model_dump().items() if v is not None]
            raise ValueError(f"cost names lever(s) {unset} that this policy does not set; it "
                             f"sets {', '.join(set_) or 'none'}")
        return self


class Fiscal(Frozen):
    """The tax base that incentives forgo, and the prices of public money the model lacks."""

    tax_usd_m_per_usd_m_operating_per_year: NonNeg = 0.0  # firms' taxes per US$ m of capital
    # a training place has no budget in the model: its unit cost (US$ m per trainee, a course)
    training_usd_m_per_trainee: NonNeg = 0.0
    # discount rate of public money for present values of policy costs (gzsim compare)
    discount_rate_per_year: Share = 0.0


class Scenario(Frozen):
    """A whole scenario: region, calendar, sectors, processes and run defaults.

    Sections of processes outside this schema (registered with
    :mod:`gzsim.scenario.sections`) are accepted and validated by their own schema; any other
    unknown key is an error.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    # where it was read from (files, overrides, source notes): set by the loader, not a value,
    # so it never changes a fingerprint or a comparison of scenarios
    _provenance: dict = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Same values (where a scenario was read from does not matter)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__ and \
            self.__pydantic_extra__ == other.__pydantic_extra__

    __hash__ = None  # type: ignore[assignment]  # as before: its fields are lists and dicts

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    region: Region
    time: TimeSpan = Field(default_factory=TimeSpan)
    run: RunSettings = Field(default_factory=RunSettings)
    sectors: dict[str, Sector]
    investment: Investment
    jobs: Jobs
    labour: Labour
    fiscal: Fiscal = Field(default_factory=Fiscal)
    # optional processes: a region without one simply does not have it (no indicators)
    infrastructure: Infrastructure | None = None
    land: Land | None = None
    attractiveness: Attractiveness = Field(default_factory=Attractiveness)
    resettlement: Resettlement | None = None
    poverty: Poverty | None = None
    training: Training = Field(default_factory=Training)
    policies: list[Policy] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _sections(cls, data, handler):
        return validate_sections(cls, data, handler)

    @field_validator("sectors")
    @classmethod
    def _some_weight(cls, v: dict[str, Sector]) -> dict[str, Sector]:
        if not v:
            raise ValueError("at least one sector is needed")
        if sum(s.weight for s in v.values()) <= 0:
            raise ValueError("sector weights must not all be zero")
        return v

    @model_validator(mode="after")
    def _policy_sectors(self) -> Scenario:
        for i, p in enumerate(self.policies):
            unknown = set(p.levers.sector_weight_multipliers or {}) - set(self.sectors)
            if unknown:
                raise ValueError(
                    f"policies[{i}] ({p.name}): unknown sector(s) {sorted(unknown)} in "
                    f"sector_weight_multipliers; sectors are {sorted(self.sectors)}")
        return self

    @model_validator(mode="after")
    def _land_fits(self) -> Scenario:
        if self.land is not None:
            room = self.region.area_km2 * self.land.serviceable_share
            if self.land.initial_serviced_km2 > room:
                raise ValueError(
                    f"land.initial_serviced_km2 ({self.land.initial_serviced_km2}) exceeds the "
                    f"serviceable area ({room:g} km2 = region.area_km2 x land.serviceable_share)")
        if self.resettlement is not None and self.poverty is None:
            raise ValueError("resettlement needs a poverty section (relocated people are poor)")
        return self

    @model_validator(mode="after")
    def _poor_stock_dated(self) -> Scenario:
        """The initial poor stock must be the one observed just before the run starts."""
        if self.poverty is not None:
            y, m = parse_year_month(self.time.start)
            before = (y, m - 1) if m > 1 else (y - 1, 12)
            if parse_year_month(self.poverty.initial_stock_as_of) != before:
                raise ValueError(
                    f"poverty.initial_stock_as_of ({self.poverty.initial_stock_as_of}) must be "
                    f"the month before time.start ({self.time.start}): initial_poor_people is "
                    f"the stock on the start date; give the stock observed then")
        return self
