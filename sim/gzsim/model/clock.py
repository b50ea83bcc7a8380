"""Month boundaries of the event-level model, and flows integrated by month.

Month ``m`` spans SimPy time [m, m+1). Two events a month mark its ends:

- the month-end tick at time m+1 with URGENT priority closes month ``m`` (jobs, poverty, the
  recorder read the state): it runs before anything else at m+1, so an entity event at exactly
  m+1 belongs to month m+1;
- the month opening at time m+1 with normal priority, scheduled by the tick, opens month m+1
  (budgets are released, land servicing and road lots start). Completions due at exactly m+1
  were scheduled earlier, so they are processed before it: a crew or land freed at m+1 is
  available to month m+1's money.

A :class:`MonthFlow` is a rate (US$ m/month, km2/month...) that entities change at their own
times; the tick integrates it over the month. It is not a calendar: it holds one rate and one
running integral, and the entities' events change it.
"""

from __future__ import annotations

from collections.abc import Callable

from simpy import Environment
from simpy.core import Event
from simpy.events import URGENT

__all__ = ["MonthFlow", "at", "end_of_month", "months"]


def end_of_month(env: Environment) -> Event:
    """An event that fires at the end of the current month, before next month's events."""
    ev = Event(env)
    ev._ok = True
    ev._value = None
    env.schedule(ev, URGENT, delay=float(int(env.now) + 1) - env.now)
    return ev


def at(env: Environment, delay: float, callback: Callable[[Event], None]) -> Event:
    """A timeout whose only work is ``callback`` (an entity that only waits needs no process)."""
    ev = env.timeout(delay)
    ev.callbacks.append(callback)
    return ev


def months(env: Environment, n_months: int, open_month: Callable[[int], None],
           close_month: Callable[[int], None]):
    """The clock process: open month 0, then at each month end close it and open the next."""
    open_month(0)
    for month in range(n_months):
        yield end_of_month(env)
        close_month(month)
        if month + 1 < n_months:
            yield env.timeout(0)  # normal priority at m+1: after completions due at m+1
            open_month(month + 1)


class MonthFlow:
    """A rate changed by events and integrated by month (a flow, not a month-keyed book)."""

    __slots__ = ("_env", "rate", "_since", "_integral")

    def __init__(self, env: Environment, rate: float = 0.0):
        self._env = env
        self.rate = rate
        self._since = env.now
        self._integral = 0.0

    def change(self, delta: float) -> None:
        """Add ``delta`` to the rate from now on."""
        now = self._env.now
        self._integral += self.rate * (now - self._since)
        self._since = now
        rate = self.rate + delta
        self.rate = 0.0 if abs(rate) < 1e-9 else rate  # no rounding residue once all ended

    def close(self) -> float:
        """The integral since the last close (the month's amount), and start a new month."""
        now = self._env.now
        total = self._integral + self.rate * (now - self._since)
        self._integral = 0.0
        self._since = now
        return total
