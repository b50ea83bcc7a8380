"""The model's processes, listed in one place, in the order of their monthly work.

Each month opens (budgets released, lots started) and closes (monthly accounting, then the
recorder) in this order: the network and land first (investment reads the fiscal stress and the
land they leave), investment before jobs (jobs count this month's money and capital),
resettlement before poverty (relocated people change poverty stocks the same month), jobs after
everything that adds workers. A process from outside the package is passed to
``gzsim.simulate(..., processes=[...])`` and runs after these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gzsim.model.fiscal import FiscalProcess
from gzsim.model.infrastructure import InfrastructureProcess
from gzsim.model.investment import InvestmentProcess
from gzsim.model.jobs import JobsProcess
from gzsim.model.land import LandProcess
from gzsim.model.poverty import PovertyProcess
from gzsim.model.process import Indicator, Process
from gzsim.model.resettlement import ResettlementProcess
from gzsim.model.training import TrainingProcess
from gzsim.scenario.sections import register_section

__all__ = ["PROCESSES", "indicator_specs", "register", "registered", "registry_version"]

PROCESSES: tuple[type[Process], ...] = (
    InfrastructureProcess,
    LandProcess,
    InvestmentProcess,
    ResettlementProcess,
    PovertyProcess,
    TrainingProcess,
    JobsProcess,
    FiscalProcess,
)


_OUTSIDE: dict[str, type[Process]] = {}


def register(cls: type[Process]) -> type[Process]:
    """Class decorator for a process kept outside the package: its section and indicators.

    Makes them known to scenarios, results, comparisons, sweeps and targets; the process runs
    where it is passed: ``simulate(..., processes=[cls])``.
    """
    known = {c.name: c for c in PROCESSES} | _OUTSIDE
    other = known.get(cls.name)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise ValueError(f"two processes are named {cls.name!r}: {other} and {cls}")
    if cls.config is not None:
        if cls.section is None:
            raise ValueError(f"{cls.__name__} has a config but no section name")
        register_section(cls.section, cls.config)
    _OUTSIDE[cls.name] = cls
    return cls


def registry_version() -> int:
    """Changes whenever a process is registered (lets views over the registry cache)."""
    return len(_OUTSIDE)


def registered() -> list[type[Process]]:
    """The model's processes in their declared order, then registered outside ones."""
    return [*PROCESSES, *(c for c in _OUTSIDE.values() if c not in PROCESSES)]


def indicator_specs(classes: Iterable[type[Process]] | None = None) -> Iterator[Indicator]:
    """Every indicator declared by the processes (all known ones by default), in order."""
    seen: set[str] = set()
    for cls in registered() if classes is None else classes:
        for spec in cls.INDICATORS:
            if spec.name in seen:
                raise ValueError(f"indicator {spec.name!r} is declared twice ({cls.__name__})")
            seen.add(spec.name)
            yield spec
