"""The process contract: what every monthly process declares, and the ordered registry.

A process is one mechanism of the model (investment, jobs, infrastructure...). It declares, next
to the code that produces them:

- ``name``: how other processes and the district refer to it (``district.jobs``);
- ``section``: the scenario section it needs; the process exists in a run only when the
  scenario has that section (``None``: always present);
- ``tick``: its place in the month-end order (lower ticks first; the recorder samples last), so
  tick order is data, not the order of lines in a constructor;
- ``INDICATORS``: the monthly indicators it reports, with unit, geography and flow/stock kind;
- ``STREAMS``: the names of the random streams it draws from (one generator each);
- ``config``: for a process that brings its own scenario section, the section's schema
  (registered with :mod:`gzsim.scenario.sections`, so the scenario accepts it).

It implements ``step(month)`` and ``indicators(month)``. The district runs ONE month-end tick
that calls every process's ``step`` in tick order and then samples every ``indicators`` (one
SimPy event a month instead of one per process). Adding a process is one module with a
``@register``-ed class, its schema section and its YAML: the district, the recorder, the
indicator registry (and so results, comparisons, sweeps and calibration targets) pick it up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from gzsim.scenario.sections import register_section

if TYPE_CHECKING:
    from gzsim.model.district import District
    from gzsim.scenario.schema import Scenario

__all__ = ["Indicator", "Process", "indicator_specs", "register", "registered",
           "registry_version"]


@dataclass(frozen=True)
class Indicator:
    """One monthly indicator: flows are amounts per month, stocks end-of-month levels."""

    name: str
    unit: str
    geography: Literal["district", "province"]
    kind: Literal["flow", "stock"]
    description: str


class Process:
    """Base class of the model's monthly processes (see the module docstring)."""

    name: ClassVar[str]
    section: ClassVar[str | None] = None
    tick: ClassVar[int]
    INDICATORS: ClassVar[tuple[Indicator, ...]] = ()
    STREAMS: ClassVar[tuple[str, ...]] = ()
    config: ClassVar[type | None] = None
    monthly_step: ClassVar[bool] = True  # False: no month-end work (own SimPy generators only)

    def __init__(self, district: District):
        self.d = district
        self.cfg: Any = getattr(district.scenario, self.section) if self.section else None

    @classmethod
    def present(cls, scenario: Scenario) -> bool:
        """Whether this process exists in a run of ``scenario``."""
        return cls.section is None or getattr(scenario, cls.section, None) is not None

    def rng(self, stream: str):
        """This replication's generator for one of the process's declared ``STREAMS``."""
        if stream not in self.STREAMS:
            raise KeyError(f"{type(self).__name__} does not declare the stream {stream!r}")
        return self.d.streams.get(stream)

    def step(self, month: int) -> None:
        """Month-end work (a process with ``monthly_step = False`` need not define it)."""
        raise NotImplementedError

    def indicators(self, month: int) -> dict[str, float]:
        """This month's values of the declared ``INDICATORS``."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Process]] = {}


def register(cls: type[Process]) -> type[Process]:
    """Class decorator: add a process to the model (and its own section to the scenario)."""
    known = _REGISTRY.get(cls.name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"two processes are named {cls.name!r}: {known} and {cls}")
    if cls.config is not None:
        if cls.section is None:
            raise ValueError(f"{cls.__name__} has a config but no section name")
        register_section(cls.section, cls.config)
    _REGISTRY[cls.name] = cls
    return cls


def registry_version() -> int:
    """Changes whenever a process is registered (lets views over the registry cache)."""
    return len(_REGISTRY)


def registered() -> list[type[Process]]:
    """Every registered process class, in tick order (ties: registration order)."""
    return sorted(_REGISTRY.values(), key=lambda c: c.tick)


def indicator_specs() -> Iterator[Indicator]:
    """Every indicator declared by a registered process, in tick order."""
    seen: set[str] = set()
    for cls in registered():
        for spec in cls.INDICATORS:
            if spec.name in seen:
                raise ValueError(f"indicator {spec.name!r} is declared twice ({cls.__name__})")
            seen.add(spec.name)
            yield spec
