"""The calibration targets file: published figures with units, provenance and model mapping.

A target maps to a simulated quantity (an indicator and an aggregation), to a scenario input,
to the evidence behind a prior (``prior: path``), to a growth observation (used by
:mod:`gzsim.calibration.growth`), to a quantity derived from the scenario's inputs
(:data:`DERIVED`, computed by :func:`derived_value`), to an exchange rate (``conversion``), or to
nothing (context the model does not represent; such a target must say why in its ``note``).
A target marked ``pending: reason`` needs something the model does not have yet: it is loaded,
listed with its reason, and skipped by the calibration (never silently).
Tolerances come from the figure's confidence grade (``tolerance_by_confidence``), widened for
projections; a target stating its own tolerance must say why (``tolerance_note``).
The simulated counterpart of an indicator target is
:func:`gzsim.calibration.quantities.simulated_values`.
Loading checks everything a user can get wrong and says where (file, line, field path).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from gzsim.calibration.quantities import AGGREGATIONS
from gzsim.errors import InputError, Problem, TargetsError
from gzsim.indicators import INDICATORS
from gzsim.io.yamlio import load_yaml, origin_of, problems_from_validation
from gzsim.scenario.types import Frozen

if TYPE_CHECKING:
    from gzsim.scenario.schema import Scenario

UNITS = ("usd_m", "cny_m", "people", "km", "km2", "share", "ratio", "rate_per_year", "count",
         "rank", "jobs", "cny_m_per_km", "cny_per_usd", "event")
#: Units whose tolerance is absolute (``absolute_share``), not relative to the value.
ABSOLUTE_UNITS = ("share", "rate_per_year")
GRADES = ("H", "M-H", "M", "M-L", "L-M", "L")
#: Last year whose observed figures may enter the repository (the seeds' own 2016 figures aside).
LAST_OBSERVED_YEAR = 2015
Year = Annotated[int, Field(ge=1900, le=2100)]

#: Quantities derived from a scenario's inputs (not simulated), by name: their meaning.
DERIVED = {
    "signed_project_mean_usd_m": "mean size of a signed project, US$ m: the sectors' "
                                 "size.mean_usd_m weighted by their arrival weights",
}


def derived_value(name: str, scenario: Scenario) -> float:
    """The value of derived quantity ``name`` (see :data:`DERIVED`) for ``scenario``."""
    if name == "signed_project_mean_usd_m":
        sectors = scenario.sectors.values()
        total = sum(s.weight for s in sectors)
        return sum(s.weight * s.size.mean_usd_m for s in sectors) / total
    raise KeyError(f"unknown derived quantity '{name}'; known: {', '.join(DERIVED)}")


class Source(Frozen):
    """Where a figure comes from: a seed article, or a row of the shared data.

    A seed article gives ``file`` and the verbatim ``sentence``; a data row gives ``dataset``,
    ``row`` (its id) and ``citation`` (the row's source column).
    """

    file: Annotated[str, Field(min_length=1)] | None = None  # seed file name
    sentence: Annotated[str, Field(min_length=10)] | None = None  # verbatim
    dataset: Annotated[str, Field(min_length=1)] | None = None  # shared data file name
    row: Annotated[str, Field(min_length=1)] | None = None  # the row's id in it
    citation: Annotated[str, Field(min_length=3)] | None = None  # the row's source column

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        seed = self.file is not None or self.sentence is not None
        data = any(v is not None for v in (self.dataset, self.row, self.citation))
        if seed == data:
            raise ValueError("give either file and sentence (a seed article) or dataset, row "
                             "and citation (a data row)")
        if seed and (self.file is None or self.sentence is None):
            raise ValueError("a seed source needs both file and sentence (required field is "
                             "missing)")
        if data and None in (self.dataset, self.row, self.citation):
            raise ValueError("a data source needs dataset, row and citation")
        return self

    @property
    def is_seed(self) -> bool:
        """True for a seed-article source."""
        return self.file is not None

    def describe(self) -> str:
        """One line of provenance for reports."""
        return (f"{self.file}: \"{self.sentence}\"" if self.is_seed
                else f"{self.dataset} row {self.row} ({self.citation})")


class MapsTo(Frozen):
    """What the figure is compared with: exactly one of the keys."""

    indicator: str | None = None
    aggregation: Literal[AGGREGATIONS] | None = None  # type: ignore[valid-type]
    input: str | None = None
    growth: str | None = None
    derived: str | None = None
    prior: str | None = None  # evidence behind this parameter's prior (priors.yaml)
    conversion: Literal["cny_per_usd"] | None = None

    @model_validator(mode="after")
    def _one(self) -> MapsTo:
        kinds = [k for k in ("indicator", "input", "growth", "derived", "prior", "conversion")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of: indicator (with aggregation), input, growth, "
                             "derived, prior, conversion")
        if self.indicator is None and self.aggregation is not None:
            raise ValueError("an aggregation goes only with an indicator")
        if self.indicator is not None and self.aggregation is None:
            raise ValueError(f"indicator '{self.indicator}' needs an aggregation: "
                             f"one of {', '.join(AGGREGATIONS)}")
        return self


class Target(Frozen):
    """One figure: value, unit, when, where, kind, confidence, provenance, model mapping."""
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    value: float
    unit: Literal[UNITS]  # type: ignore[valid-type]
    year: Year | None = None
    period: tuple[Year, Year] | None = None
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None
    geography: Literal["gui_an", "guiyang", "guizhou", "shanghai", "district", "province",
                       "world"]
    kind: Literal["observed", "projection", "plan", "reference"]
    source: Source
    confidence: Literal[GRADES]  # type: ignore[valid-type]
    maps_to: MapsTo | None
    tolerance: Annotated[float, Field(gt=0)] | None = None  # 0 would make any miss infinite
    tolerance_abs: Annotated[float, Field(gt=0)] | None = None
    tolerance_note: str = ""  # why a stated tolerance differs from the confidence grade's
    weight: Annotated[float, Field(gt=0)] = 1.0
    growth_series: str | None = None  # also an observation of this growth series
    pending: str | None = None  # why the model cannot use it yet (skipped, listed, not silent)
    value_model: float | None = None  # value in the model's unit (set by the loader)
    # what the figure counts, as published (a net fall or gross exits; which poverty series;
    # open or under construction; all payers or one): compared only with the same quantity
    definition: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _when(self) -> Target:
        if (self.year is None) == (self.period is None):
            raise ValueError("give either a year or a period [first, last]")
        if self.period is not None and self.period[1] < self.period[0]:
            raise ValueError(f"period {list(self.period)} ends before it starts")
        if (self.tolerance is not None or self.tolerance_abs is not None) \
                and not self.tolerance_note.strip():
            raise ValueError("a stated tolerance needs a tolerance_note saying why it differs "
                             "from the confidence grade's")
        if self.kind == "plan" and self.maps_to is not None and self.maps_to.indicator:
            raise ValueError("a plan is a policy input: map it to an input, never fit it as if "
                             "achieved")
        if self.pending is not None and not self.pending.strip():
            raise ValueError("pending needs the reason the model cannot use the target yet")
        if self.simulated and not self.definition.strip():
            raise ValueError("a figure compared with the model needs a definition: what it "
                             "counts as published (a net fall or gross exits, which series, "
                             "open or under construction)")
        if self.maps_to is None and not self.note.strip():
            raise ValueError("a context figure (maps_to: null) needs a note saying why the "
                             "model does not represent it")
        if self.maps_to is not None and self.maps_to.aggregation == "quarter_sum" \
                and self.quarter is None:
            raise ValueError("aggregation quarter_sum needs a quarter (1-4)")
        return self

    @property
    def simulated(self) -> bool:
        """True when the figure maps to a simulated indicator."""
        return self.maps_to is not None and self.maps_to.indicator is not None

    @property
    def fitted(self) -> bool:
        """Compared with the simulation in the calibration (observed or projection)."""
        return self.simulated and self.pending is None and self.kind in ("observed",
                                                                          "projection")

    @property
    def model_value(self) -> float:
        """The value in the model's unit (yuan converted to US$)."""
        return self.value if self.value_model is None else self.value_model

    def error_scale(self) -> float:
        """The size of a miss that counts as exactly 'at tolerance' (in the model's unit)."""
        if self.tolerance_abs is not None:
            return self.tolerance_abs
        return abs(self.model_value) * (self.tolerance or 0.0)


class Currency(Frozen):
    """The currency rate the sources imply, with its derivation."""
    cny_per_usd: Annotated[float, Field(gt=0)]
    derivation: str
    source: Source
    note: str = ""


class ToleranceGrades(Frozen):
    """Tolerance by confidence grade: relative, and absolute for shares and rates."""
    relative: dict[Literal[GRADES], Annotated[float, Field(gt=0)]]  # type: ignore[valid-type]
    absolute_share: dict[Literal[GRADES], Annotated[float, Field(gt=0)]]  # type: ignore


class TargetsFile(Frozen):
    """The targets file."""
    currency: Currency
    tolerance_by_confidence: ToleranceGrades
    projection_tolerance_factor: Annotated[float, Field(ge=1)] = 2.0
    targets: list[Target]

    def cny_per_usd(self, year: int | None) -> float:
        """The year's average rate from the conversion targets, else the currency rate."""
        for t in self.targets:
            if t.maps_to is not None and t.maps_to.conversion and t.year == year:
                return t.value
        return self.currency.cny_per_usd

    @property
    def fitted(self) -> list[Target]:
        """Targets in the calibration's distance."""
        return [t for t in self.targets if t.fitted]

    @property
    def pending(self) -> list[Target]:
        """Targets the model cannot use yet, each with its reason."""
        return [t for t in self.targets if t.pending is not None]

    @property
    def by_id(self) -> dict[str, Target]:
        """Targets by id."""
        return {t.id: t for t in self.targets}


def load_targets(path: str | Path) -> TargetsFile:
    """Read and validate a targets file; :class:`TargetsError` lists every problem found."""
    try:
        data, origins = load_yaml(path, what="targets file")
    except InputError as e:
        raise TargetsError(e.problems) from None
    file = str(path)
    try:
        tf = TargetsFile.model_validate(data)
    except ValidationError as e:
        raise TargetsError(problems_from_validation(e, origins, TargetsFile, file)) from None
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(tf.targets):
        where = ("targets", i)
        if t.id in seen:
            first = origin_of(origins, ("targets", seen[t.id], "id"))[1]
            _, line = origin_of(origins, (*where, "id"))
            problems.append(Problem(f"duplicate id '{t.id}' (first defined on line {first})",
                                    file, line, f"targets.{i}.id"))
        else:
            seen[t.id] = i
        problems += _check_target(t, i, origins, file)
    if problems:
        raise TargetsError(problems)
    return tf.model_copy(update={"targets": [_resolved(t, tf) for t in tf.targets]})


def _check_target(t: Target, i: int, origins: dict, file: str) -> list[Problem]:
    """What the schema cannot see: names the model knows, and the no-data-after-2015 rule."""
    where, problems = ("targets", i), []
    if t.maps_to is not None and t.maps_to.indicator is not None and t.pending is None \
            and t.maps_to.indicator not in INDICATORS:
        near = difflib.get_close_matches(t.maps_to.indicator, list(INDICATORS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        _, line = origin_of(origins, (*where, "maps_to", "indicator"))
        problems.append(Problem(f"unknown indicator '{t.maps_to.indicator}'{hint} (mark the "
                                "target 'pending: <reason>' if the model does not have it yet)",
                                file, line, f"targets.{i}.maps_to.indicator"))
    if t.maps_to is not None and t.maps_to.derived is not None \
            and t.maps_to.derived not in DERIVED:
        near = difflib.get_close_matches(t.maps_to.derived, list(DERIVED), n=1)
        hint = (f" (did you mean '{near[0]}'?)" if near
                else f"; known: {', '.join(DERIVED)}")
        _, line = origin_of(origins, (*where, "maps_to", "derived"))
        problems.append(Problem(f"unknown derived quantity '{t.maps_to.derived}'{hint}",
                                file, line, f"targets.{i}.maps_to.derived"))
    last = t.period[1] if t.period else t.year
    if t.kind == "observed" and last is not None and last > LAST_OBSERVED_YEAR \
            and not t.source.is_seed:
        _, line = origin_of(origins, (*where, "year"))
        problems.append(Problem(f"an observed figure for {last}: no figure observed after "
                                f"{LAST_OBSERVED_YEAR} may enter the repository (the seed "
                                "articles' own figures aside); the years from 2016 on are the "
                                "model's forecasting test", file, line, f"targets.{i}.year"))
    return problems


def _resolved(t: Target, tf: TargetsFile) -> Target:
    """The target with its tolerance from its confidence grade and its value in model units."""
    update: dict = {}
    if t.unit == "cny_m" and t.simulated:
        update["value_model"] = t.value / tf.cny_per_usd(t.year)
    compared = t.maps_to is not None and any(
        (t.maps_to.indicator, t.maps_to.derived, t.maps_to.growth))
    if compared and t.tolerance is None and t.tolerance_abs is None:
        grades = tf.tolerance_by_confidence
        if t.unit in ABSOLUTE_UNITS:
            update["tolerance_abs"] = grades.absolute_share[t.confidence]
        else:
            update["tolerance"] = grades.relative[t.confidence]
    if t.kind == "projection":
        f = tf.projection_tolerance_factor
        for k in ("tolerance", "tolerance_abs"):
            v = update.get(k, getattr(t, k))
            if v is not None:
                update[k] = v * f
    return t.model_copy(update=update) if update else t
