"""The process contract: what every process of the model declares, and how it is wired.

A process is one mechanism of the model (investment, jobs, infrastructure...). It declares, next
to the code that produces them:

- ``name``: how the district and other processes refer to it;
- ``section``: the scenario section it needs; the process exists in a run only when the
  scenario has that section (``None``: always present);
- ``READS``: the processes whose state it reads. The district connects them explicitly
  (``connect``, as desmod's ``add_connections``/``connect`` do): after wiring, ``self.jobs`` is
  the jobs process, or ``None`` when this run does not have it. Processes never look each other
  up through the district;
- ``STOCKS``: the SimPy ``Container``s and ``Resource``s it owns, by name (made in ``start``);
- ``LOGS``: the entity kinds it writes to the event log, with the events of each;
- ``INDICATORS``: the monthly indicators it reports, with unit, geography and flow/stock kind;
- ``STREAMS``: the names of the random streams it draws from (one generator each);
- ``config``: for a process from outside the package, its scenario section's schema
  (:func:`gzsim.model.processes.register` makes it known to the scenario and to the
  indicator registry).

It may implement ``start(env)`` (make its stocks, launch its entities' generators; called once
every process is built and connected), ``open_month(month)`` (work at the start of a month:
budget releases), ``step(month)`` (month-end accounting) and must implement
``indicators(month)``. The order of the monthly work is the order of the process list
(:data:`gzsim.model.processes.PROCESSES`, then processes passed to ``simulate``), declared in one
place; the recorder samples last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from simpy import Environment

    from gzsim.model.district import District
    from gzsim.scenario.schema import Scenario

__all__ = ["Indicator", "Process"]


@dataclass(frozen=True)
class Indicator:
    """One monthly indicator: flows are amounts per month, stocks end-of-month levels."""

    name: str
    unit: str
    geography: Literal["district", "province"]
    kind: Literal["flow", "stock"]
    description: str


class Process:
    """Base class of the model's processes (see the module docstring)."""

    name: ClassVar[str]
    section: ClassVar[str | None] = None
    READS: ClassVar[tuple[str, ...]] = ()
    STOCKS: ClassVar[tuple[str, ...]] = ()
    LOGS: ClassVar[dict[str, tuple[str, ...]]] = {}
    INDICATORS: ClassVar[tuple[Indicator, ...]] = ()
    STREAMS: ClassVar[tuple[str, ...]] = ()
    config: ClassVar[type | None] = None

    def __init__(self, district: District):
        self.d = district
        self.env = district.env
        self.log = district.log  # None unless the event log is on
        self.cfg: Any = getattr(district.scenario, self.section) if self.section else None
        for name in self.READS:
            setattr(self, name, None)

    @classmethod
    def present(cls, scenario: Scenario) -> bool:
        """Whether this process exists in a run of ``scenario``."""
        return cls.section is None or getattr(scenario, cls.section, None) is not None

    def connect(self, name: str, other: Process | None) -> None:
        """Wire a declared connection (``other`` is None when the run lacks that process)."""
        if name not in self.READS:
            raise KeyError(f"{type(self).__name__} does not declare that it reads {name!r}")
        setattr(self, name, other)

    def rng(self, stream: str):
        """This replication's generator for one of the process's declared ``STREAMS``."""
        if stream not in self.STREAMS:
            raise KeyError(f"{type(self).__name__} does not declare the stream {stream!r}")
        return self.d.streams.get(stream)

    def start(self, env: Environment) -> None:
        """Make the stocks and launch the generators (every process is built and wired)."""

    def open_month(self, month: int) -> None:
        """Work at the start of ``month`` (time ``month``, after completions due then)."""

    def step(self, month: int) -> None:
        """Month-end accounting of ``month`` (time ``month + 1``, URGENT)."""

    def indicators(self, month: int) -> dict[str, float]:
        """This month's values of the declared ``INDICATORS``."""
        raise NotImplementedError
