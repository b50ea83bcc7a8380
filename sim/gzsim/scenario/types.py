"""Building blocks shared by every scenario section: frozen base, unit-aware ranges, months.

Numbers are numbers: every scenario part refuses booleans and strings where a number is
expected (YAML's ``yes``/``true`` would otherwise read as 1), infinities and NaN (``.inf``,
``1e400``), and magnitudes beyond :data:`MAX_MAGNITUDE` (nothing a regional model describes is
that large in any unit; such values only overflow). A whole float like ``12.0`` is accepted for
an integer field (designs and calibrations produce floats).
"""

from __future__ import annotations

import functools
import re
import typing
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

MAX_MAGNITUDE = 1e12
MAX_INT = 2**63 - 1  # a 64-bit integer (seeds, counts)


def _check_number(v: Any, kind: str) -> Any:
    """Refuse what is not a number for a ``kind`` ('int' or 'float') field; pass the rest on."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got the boolean {str(v).lower()} (booleans are "
                         "not numbers)")
    if isinstance(v, str):
        raise ValueError(f"expected a number, got the string {v[:40]!r} (write numbers "
                         "without quotes)")
    limit = MAX_MAGNITUDE if kind == "float" else MAX_INT
    if isinstance(v, (int, float)) and v == v and abs(v) != float("inf") and abs(v) > limit:
        raise ValueError(f"{v:g} is beyond the largest magnitude gzsim accepts here "
                         f"({limit:g}); such values only overflow")
    if kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _number(v: Any) -> Any:
    return _check_number(v, "float")


Number = Annotated[float, BeforeValidator(_number)]
NonNeg = Annotated[float, BeforeValidator(_number), Field(ge=0)]
Positive = Annotated[float, BeforeValidator(_number), Field(gt=0)]
Share = Annotated[float, BeforeValidator(_number), Field(ge=0, le=1)]
Rate = Annotated[float, BeforeValidator(_number), Field(gt=-1, le=10)]  # -100 % < g <= 1000 %
Months = Annotated[int, Field(ge=0, le=600)]

_YM = re.compile(r"^(\d{4})-(\d{2})$")


@functools.cache
def _numeric_kind(annotation: Any) -> str | None:
    """'int' or 'float' when a field holds a plain number (possibly optional), else None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Annotated:
        return _numeric_kind(args[0])
    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if args and typing.get_origin(annotation) not in (dict, list, tuple, typing.Literal):
        kinds = {_numeric_kind(a) for a in args if a is not type(None)}
        if len(kinds) == 1:
            return kinds.pop()
    return None


class Frozen(BaseModel):
    """Base for every scenario part: unknown keys are errors and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        kind = _numeric_kind(field.annotation) if field is not None else None
        if kind is None or v is None:
            return v
        return _check_number(v, kind)


def parse_year_month(value: str) -> tuple[int, int]:
    """``"YYYY-MM"`` -> ``(year, month)``; a ValueError saying what was expected otherwise."""
    m = _YM.match(str(value))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month as 'YYYY-MM', got {value!r}")
    return int(m.group(1)), int(m.group(2))


def _year_month(value: str) -> str:
    parse_year_month(value)
    return value


# A month as written in a scenario, "YYYY-MM" (checked, kept as text).
YearMonth = Annotated[str, AfterValidator(_year_month)]
