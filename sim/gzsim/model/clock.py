"""The month-end tick that monthly processes wait for.

Month ``m`` spans SimPy time [m, m+1). Monthly bookkeeping (labour market, budgets, recorder)
happens at time m+1 with URGENT priority, so it runs before anything else scheduled at m+1
(new arrivals belong to the next month). Processes created earlier tick earlier each month;
the district creates them in dependency order and the recorder last.
"""

from __future__ import annotations

from simpy import Environment
from simpy.core import Event
from simpy.events import URGENT


def end_of_month(env: Environment) -> Event:
    """An event that fires at the end of the current month, before next month's events."""
    ev = Event(env)
    ev._ok = True
    ev._value = None
    env.schedule(ev, URGENT, delay=float(int(env.now) + 1) - env.now)
    return ev


def monthly(env: Environment, n_months: int, step) -> object:
    """A SimPy process generator calling ``step(month)`` at the end of each month."""
    for month in range(n_months):
        yield end_of_month(env)
        step(month)
