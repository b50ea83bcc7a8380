"""Printed tables: one number format per unit, readable titles, 80 columns, four formats.

Why here: ``gzsim run``'s summary and ``gzsim compare``'s headline must agree on how a number
of people or of US$ m is written, and both must fit a plain 80-column terminal. Wide tables
are made long (one row per indicator and year) instead of wide (one column per year), so they
wrap by row, never by cell. Rows are grouped by geography (district or province).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gzsim.indicators import INDICATORS

if TYPE_CHECKING:
    import pandas as pd

WIDTH = 80

# unit (its stem, before any "/year") -> format; counts are whole numbers, money one decimal
_UNIT_FORMATS: dict[str, str] = {
    "people": "{:,.0f}", "jobs": "{:,.0f}", "firms": "{:,.0f}", "households": "{:,.0f}",
    "US$ m": "{:,.1f}", "km": "{:,.0f}", "km2": "{:,.1f}", "multiplier": "{:,.3f}",
    "index (start = 1)": "{:,.3f}", "ratio": "{:,.2f}",
}
_SUFFIXES = ("_usd_m", "_km2", "_km")


def unit_format(unit: str) -> str:
    """The one format used for every number in ``unit`` (a flow's "/year" does not matter)."""
    stem = unit.split("/")[0].strip()
    return _UNIT_FORMATS.get(stem, "{:,.4g}")


def fmt(value: float, unit: str, sign: bool = False) -> str:
    """``value`` in its unit's format; NaN is an empty cell."""
    if value is None or not math.isfinite(float(value)):
        return ""
    f = unit_format(unit)
    if sign:
        f = f.replace("{:", "{:+")
    text = f.format(float(value))
    if text[0] in "+-" and not any(c in "123456789" for c in text.split("e")[0]):
        text = text[1:]  # a value that rounds to zero has no sign
    return text


def title(indicator: str) -> str:
    """A readable title from an indicator name: ``jobs_created`` -> ``Jobs created``.

    The registry's own title wins when an indicator declares one; otherwise the name's unit
    suffix (``_usd_m``, ``_km``) is dropped (the unit is shown apart).
    """
    declared = getattr(INDICATORS.get(indicator), "title", None)
    if declared:
        return str(declared)
    name = indicator
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name != suffix.lstrip("_"):
            name = name[: -len(suffix)]
            break
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else indicator


def geography(indicator: str) -> str:
    """District, province, or other (an indicator the registry does not know)."""
    spec = INDICATORS.get(indicator)
    return spec.geography if spec else "other"


def geography_label(geo: str, region: str = "", province: str = "") -> str:
    """Section heading of a geography: the district or the province, by name when known."""
    if geo == "district":
        return f"District{f' ({region})' if region else ''}"
    if geo == "province":
        return f"Province{f' ({province})' if province else ''}"
    return "Other"


@dataclass
class Section:
    """Rows under one heading (a geography, a policy)."""

    heading: str
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class LongTable:
    """A table of short columns, in sections; rendered as rich text, Markdown, CSV or JSON."""

    title: str
    columns: list[str]
    right: set[int]
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def widths(self) -> list[int]:
        """Column widths shared by every section, so the sections line up."""
        cells = [self.columns] + [r for s in self.sections for r in s.rows]
        return [max(len(str(r[i])) for r in cells) for i in range(len(self.columns))]

    def rich(self) -> list:
        """Renderables: the title, then per section its heading and a small table."""
        # start-up: rich loads only when needed (the run path avoids it, issue 13)
        from rich import box
        from rich.table import Table
        from rich.text import Text

        out: list = [Text(self.title, style="bold")]
        widths = self.widths()
        for s in self.sections:
            if s.heading:
                out.append(Text("\n" + s.heading, style="italic"))
            t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
            for i, c in enumerate(self.columns):
                t.add_column(c, justify="right" if i in self.right else "left", no_wrap=True,
                             min_width=widths[i])
            for r in s.rows:
                t.add_row(*r)
            out.append(t)
        return out

    def markdown(self) -> str:
        """The table as Markdown: the title in bold, each section a table of its own."""
        lines = [f"**{self.title}**", ""]
        head = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---:" if i in self.right else "---"
                              for i in range(len(self.columns))) + "|"
        for s in self.sections:
            if s.heading:
                lines += [f"*{s.heading}*", ""]
            lines += [head, rule] + ["| " + " | ".join(r) + " |" for r in s.rows] + [""]
        lines += [f"> {n}" for n in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def print_tables(tables: Iterable[LongTable], console=None) -> None:
    """Print rich tables (and their notes) at most :data:`WIDTH` columns wide."""
    # start-up: rich loads only when needed (the run path avoids it, issue 13)
    from rich.console import Console

    if console is None:
        console = Console(width=WIDTH)
    elif console.width > WIDTH:
        console.width = WIDTH
    for t in tables:
        for part in t.rich():
            console.print(part, highlight=False)
        for n in t.notes:
            console.print(n, highlight=False)
        console.print()


def render_text(tables: Sequence[LongTable], width: int = WIDTH) -> str:
    """What :func:`print_tables` prints, as plain text (no colour)."""
    # start-up: rich loads only when needed (the run path avoids it, issue 13)
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False)
    print_tables(tables, console)
    return buf.getvalue()


def emit(frame: pd.DataFrame | None, tables: Sequence[LongTable], form: str,
         echo: Callable[[str], None], console=None, extra: dict | None = None) -> None:
    """Write ``frame`` as CSV/JSON or ``tables`` as rich text/Markdown to ``echo``."""
    if form == "csv":
        echo(frame.to_csv(index=False).rstrip("\n"))
    elif form == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=10))
        echo(json.dumps({**(extra or {}), "rows": records}, indent=2))
    elif form == "md":
        echo("\n".join(t.markdown() for t in tables))
    else:
        print_tables(tables, console)
