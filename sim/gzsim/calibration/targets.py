"""The calibration targets file: published figures with units, provenance and model mapping.

A target maps to a simulated quantity (an indicator and an aggregation), to a scenario input,
to a growth observation (used by :mod:`gzsim.calibration.growth`), to a quantity derived from
the scenario's inputs (:data:`DERIVED`, computed by :func:`derived_value`), or to nothing
(context the model does not represent; such a target must say why in its ``note``).
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
from gzsim.scenario.types import Frozen
from gzsim.yamlio import load_yaml, origin_of, problems_from_validation

if TYPE_CHECKING:
    from gzsim.scenario.schema import Scenario

UNITS = ("usd_m", "cny_m", "people", "km", "km2", "share", "ratio", "rate_per_year", "count",
         "rank", "jobs")
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
    file: Annotated[str, Field(min_length=1)]  # seed file name
    sentence: Annotated[str, Field(min_length=10)]  # verbatim


class MapsTo(Frozen):
    """What the figure is compared with: exactly one of the keys."""

    indicator: str | None = None
    aggregation: Literal[AGGREGATIONS] | None = None  # type: ignore[valid-type]
    input: str | None = None
    growth: str | None = None
    derived: str | None = None

    @model_validator(mode="after")
    def _one(self) -> MapsTo:
        kinds = [k for k in ("indicator", "input", "growth", "derived")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of: indicator (with aggregation), input, growth, "
                             "derived")
        if self.indicator is None and self.aggregation is not None:
            raise ValueError("an aggregation goes only with an indicator")
        if self.indicator is not None and self.aggregation is None:
            raise ValueError(f"indicator '{self.indicator}' needs an aggregation: "
                             f"one of {', '.join(AGGREGATIONS)}")
        return self


class Target(Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    value: float
    unit: Literal[UNITS]  # type: ignore[valid-type]
    year: Year | None = None
    period: tuple[Year, Year] | None = None
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None
    geography: Literal["gui_an", "guiyang", "guizhou", "shanghai", "district", "province"]
    kind: Literal["observed", "projection", "plan", "reference"]
    source: Source
    maps_to: MapsTo | None
    tolerance: Annotated[float, Field(ge=0)] | None = None
    tolerance_abs: Annotated[float, Field(ge=0)] | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0
    growth_series: str | None = None  # also an observation of this growth series
    note: str = ""

    @model_validator(mode="after")
    def _when(self) -> Target:
        if (self.year is None) == (self.period is None):
            raise ValueError("give either a year or a period [first, last]")
        if self.period is not None and self.period[1] < self.period[0]:
            raise ValueError(f"period {list(self.period)} ends before it starts")
        if (self.maps_to is not None
                and (self.maps_to.indicator is not None or self.maps_to.derived is not None)
                and self.tolerance is None and self.tolerance_abs is None):
            raise ValueError("a target compared with the model needs a tolerance or "
                             "tolerance_abs")
        if self.maps_to is None and not self.note.strip():
            raise ValueError("a context figure (maps_to: null) needs a note saying why the "
                             "model does not represent it")
        if self.maps_to is not None and self.maps_to.aggregation == "quarter_sum" \
                and self.quarter is None:
            raise ValueError("aggregation quarter_sum needs a quarter (1-4)")
        return self

    @property
    def simulated(self) -> bool:
        return self.maps_to is not None and self.maps_to.indicator is not None

    def error_scale(self) -> float:
        """The size of a miss that counts as exactly 'at tolerance'."""
        if self.tolerance_abs is not None:
            return self.tolerance_abs
        return abs(self.value) * (self.tolerance or 0.0)


class Currency(Frozen):
    cny_per_usd: Annotated[float, Field(gt=0)]
    derivation: str
    source: Source
    note: str = ""


class TargetsFile(Frozen):
    currency: Currency
    targets: list[Target]

    @property
    def by_id(self) -> dict[str, Target]:
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
        if t.maps_to is not None and t.maps_to.indicator is not None \
                and t.maps_to.indicator not in INDICATORS:
            near = difflib.get_close_matches(t.maps_to.indicator, list(INDICATORS), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            _, line = origin_of(origins, (*where, "maps_to", "indicator"))
            problems.append(Problem(f"unknown indicator '{t.maps_to.indicator}'{hint}", file,
                                    line, f"targets.{i}.maps_to.indicator"))
        if t.maps_to is not None and t.maps_to.derived is not None \
                and t.maps_to.derived not in DERIVED:
            near = difflib.get_close_matches(t.maps_to.derived, list(DERIVED), n=1)
            hint = (f" (did you mean '{near[0]}'?)" if near
                    else f"; known: {', '.join(DERIVED)}")
            _, line = origin_of(origins, (*where, "maps_to", "derived"))
            problems.append(Problem(f"unknown derived quantity '{t.maps_to.derived}'{hint}",
                                    file, line, f"targets.{i}.maps_to.derived"))
    if problems:
        raise TargetsError(problems)
    return tf
