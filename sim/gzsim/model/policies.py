"""Policy levers in force at a given month, combined across overlapping policies.

Processes never read ``scenario.policies`` directly: they ask the district for the levers of a
month (``district.levers(month)``). What each lever is, its neutral value and how overlapping
policies combine are declared once, on the scenario's ``Levers`` schema
(:class:`gzsim.scenario.schema.Lever`); :class:`ActiveLevers` and :func:`combine` are derived
from those declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from gzsim.scenario.schema import Lever, Scenario, TimeSpan, lever_declarations, parse_year_month

__all__ = ["ActiveLevers", "PolicySchedule", "combine"]

LEVERS: dict[str, Lever] = lever_declarations()


def _neutral(decl: Lever) -> Any:
    return {} if decl.combine == "multiply_each" else decl.neutral


ActiveLevers = dataclasses.make_dataclass(
    "ActiveLevers",
    [(name, Any, dataclasses.field(default_factory=lambda d=decl: _neutral(d)))
     for name, decl in LEVERS.items()] + [("active", tuple, dataclasses.field(default=()))],
    frozen=True)
ActiveLevers.__module__ = __name__
ActiveLevers.__doc__ = "The combined effect of every policy active in one month (neutral values "
ActiveLevers.__doc__ += "by default); one attribute per declared lever, plus ``active`` names."


def _strictest(a: Any, b: Any) -> Any:
    return b if a is None else min(a, b)


def _multiply_each(a: dict, b: dict) -> dict:
    return {**a, **{k: a.get(k, 1.0) * v for k, v in b.items()}}


_RULES: dict[str, Callable[[Any, Any], Any]] = {
    "multiply": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "strictest": _strictest,
    "multiply_each": _multiply_each,
}


def _month(time: TimeSpan, ym: str) -> int:
    return time.month_index(*parse_year_month(ym))


def combine(scenario: Scenario, month: int) -> Any:
    """Levers in force in ``month`` (0-based index from the scenario's start)."""
    out = {name: _neutral(decl) for name, decl in LEVERS.items()}
    active = []
    for p in scenario.policies:
        start = _month(scenario.time, p.start)
        end = _month(scenario.time, p.end) if p.end else 10**9
        if not start <= month <= end:
            continue
        active.append(p.name)
        for name, decl in LEVERS.items():
            value = getattr(p.levers, name)
            if value is not None:
                out[name] = _RULES[decl.combine](out[name], value)
                if decl.cap is not None:
                    out[name] = min(out[name], decl.cap)
    return ActiveLevers(**out, active=tuple(active))


class PolicySchedule:
    """Precomputed levers for every month of a run (policies change only at month starts)."""

    def __init__(self, scenario: Scenario):
        time = scenario.time
        spans = [(p.name, _month(time, p.start), _month(time, p.end) if p.end else 10**9)
                 for p in scenario.policies]
        cache: dict[tuple[str, ...], Any] = {}  # combined once per distinct set of policies
        self._by_month: list[Any] = []
        for m in range(time.n_months):
            active = tuple(name for name, start, end in spans if start <= m <= end)
            if active not in cache:
                cache[active] = combine(scenario, m)
            self._by_month.append(cache[active])

    def __call__(self, month: int) -> Any:
        """The levers in force in ``month`` (clamped to the horizon)."""
        by_month = self._by_month
        if 0 <= month < len(by_month):
            return by_month[month]
        return by_month[0 if month < 0 else -1]


class PolicyProcess:
    """Each policy, plan and quota as a SimPy process with a start and an end event.

    The levers a process reads come from :class:`PolicySchedule` (policies change only at
    month starts); these processes mark, in SimPy time and in the event log, when each one is
    in force (``in_force`` holds the names of those running now).
    """

    name = "policies"
    LOGS = {"policy": ("start", "end"), "plan": ("start", "end"), "quota": ("start", "end")}

    def __init__(self, scenario: Scenario, env: Any, log: Any):
        self.env, self.log = env, log
        self.in_force: set[str] = set()
        time = scenario.time
        self.spans: list[tuple[str, str, int, int | None]] = [
            ("policy", p.name, _month(time, p.start), _month(time, p.end) + 1 if p.end else None)
            for p in scenario.policies]
        if scenario.infrastructure is not None:
            self.spans += [("plan", p.name, _month(time, p.start), _month(time, p.by) + 1)
                           for p in scenario.infrastructure.plans]
        quotas = ({f"resettlement.{k}": q for k, q in scenario.resettlement.quotas.items()}
                  if scenario.resettlement is not None else {})
        if scenario.poverty is not None:
            quotas |= {f"poverty.{k}": q for k, q in scenario.poverty.programme.quotas.items()}
        self.spans += [("quota", name, _month(time, q.start), _month(time, q.end) + 1
                        if q.end else None) for name, q in quotas.items()]

    def start(self, horizon: int) -> None:
        """Launch one process per policy, plan and quota that is in force before ``horizon``."""
        for i, (kind, name, start, end) in enumerate(self.spans):
            if start < horizon and (end is None or end > 0):
                self.env.process(self._life(i, kind, name, max(start, 0), end, horizon))

    def _life(self, i: int, kind: str, name: str, start: int, end: int | None, horizon: int):
        env = self.env
        if start > env.now:
            yield env.timeout(start - env.now)
        self.in_force.add(name)
        if self.log is not None:
            self.log.add(env.now, kind, i, "start", None, None, name, None)
        if end is None or end >= horizon:
            return
        yield env.timeout(end - env.now)
        self.in_force.discard(name)
        if self.log is not None:
            self.log.add(env.now, kind, i, "end", None, None, name, None)
