"""Values that depend only on the scenario, shared by the replications of one scenario object.

Processes precompute monthly paths that do not depend on a run's state: the policy levers in
force, budget releases, costs per km, plan earmarks, quotas. Replications of the same scenario
(a `gzsim run`, a design point's replications in a sweep, a calibration's draws) compute them
once instead of once each. Keyed by the scenario object itself (it is frozen; a few recent ones
are kept, with a reference, so an ``id`` is never reused while cached): a scenario built anew
(another design point, one unpickled in a worker) simply starts its own entry. The shared values
must be treated as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from gzsim.scenario.schema import Scenario

T = TypeVar("T")
KEEP = 8  # scenarios whose values are kept (a sweep worker moves from point to point)
_RECENT: dict[int, tuple[Scenario, dict[str, Any]]] = {}


def shared(scenario: Scenario) -> dict[str, Any]:
    """The dict of values shared by every replication of ``scenario`` (empty at first)."""
    hit = _RECENT.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    while len(_RECENT) >= KEEP:  # forget the oldest
        try:
            _RECENT.pop(next(iter(_RECENT)), None)
        except (StopIteration, RuntimeError):  # emptied or changed by another thread
            break
    values: dict[str, Any] = {}
    _RECENT[id(scenario)] = (scenario, values)
    return values


def once(scenario: Scenario, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` the first time ``key`` is asked for ``scenario``; the same value after."""
    values = shared(scenario)
    if key not in values:
        values[key] = compute()
    return values[key]
