"""Building blocks shared by every scenario section: frozen base, unit-aware ranges, months."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Rate = Annotated[float, Field(gt=-1, le=10)]  # an annual growth rate: -100 % < g <= 1000 %
Months = Annotated[int, Field(ge=0, le=600)]

_YM = re.compile(r"^(\d{4})-(\d{2})$")


class Frozen(BaseModel):
    """Base for every scenario part: unknown keys are errors and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_year_month(value: str) -> tuple[int, int]:
    """``"YYYY-MM"`` -> ``(year, month)``; a ValueError saying what was expected otherwise."""
    m = _YM.match(str(value))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month as 'YYYY-MM', got {value!r}")
    return int(m.group(1)), int(m.group(2))


