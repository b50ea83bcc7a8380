"""The monthly indicators gzsim reports: name, unit, geography, flow or stock, meaning.

Each process declares its own indicators next to the code that produces them
(:mod:`gzsim.model.process`); this module is the read-only view over all of them, so that
results, summaries, plots, sweeps and calibration targets agree. Flows are amounts per month
(annual figures sum them); stocks are end-of-month levels (annual figures take December).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import gzsim.model  # noqa: F401  (importing the model registers its processes)
from gzsim.model.process import Indicator
from gzsim.model.processes import indicator_specs, registry_version

__all__ = ["INDICATORS", "JOBS", "JOBS_WHY", "IndicatorSpec", "table"]

#: The one indicator to quote for "jobs" in a report; the headline of a spending policy uses it.
JOBS = "employment"
JOBS_WHY = (
    "Quote employment for jobs: people in work in Gui An New District (the district, not the "
    "province) in December of the year - filled positions at its firms, their construction "
    "sites, their suppliers and household spending net of leakage, and the district's share "
    "of the province's road and rail works. It is a count of people, so a policy's effect is "
    "the extra people in work that year. Do not quote jobs_created (hires: a position "
    "filled twice counts twice, and a year's sum is not a level) nor jobs_direct, "
    "jobs_construction or jobs_indirect (positions, filled or not, each one kind only); "
    "jobs_infrastructure is the province's road and rail sites.")

IndicatorSpec = Indicator


class _Registry(Mapping[str, Indicator]):
    """A live view: a process registered later (a plugin) shows up here at once."""

    def __init__(self) -> None:
        self._cache: tuple[int, dict[str, Indicator]] = (-1, {})

    def _specs(self) -> dict[str, Indicator]:
        version = registry_version()
        if self._cache[0] != version:
            self._cache = (version, {s.name: s for s in indicator_specs()})
        return self._cache[1]

    def __getitem__(self, name: str) -> Indicator:
        return self._specs()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs())

    def __len__(self) -> int:
        return len(self._specs())

    def __repr__(self) -> str:
        return f"INDICATORS({', '.join(self)})"


INDICATORS: Mapping[str, Indicator] = _Registry()


def table() -> str:
    """The indicators as a Markdown table (docs/model.md embeds it)."""
    rows = ["| indicator | unit | geography | kind | meaning |", "|---|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.unit} | {s.geography} | {s.kind} | {s.description} |"
             for s in INDICATORS.values()]
    return "\n".join(rows)
