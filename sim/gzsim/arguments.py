"""Checks of the run arguments shared by the CLI options and the Python API (same messages).

``simulate(sc, replications=0)`` and ``gzsim run -n 0`` say the same thing: an
:class:`~gzsim.errors.ArgumentError` (a :class:`~gzsim.errors.UserError`, exit status 2).
"""

from __future__ import annotations

import numbers
from typing import Any

from gzsim.errors import ArgumentError
from gzsim.scenario.checks import MAX_SEED, MAX_SERIES_ROWS

MAX_REPLICATIONS = 100_000
MAX_WORKERS = 1024


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ArgumentError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def check_replications(value: Any, months: int | None = None,
                       name: str = "replications") -> int:
    """1 <= replications <= MAX_REPLICATIONS (and the series must fit in memory)."""
    n = _integer(value, name)
    if not 1 <= n <= MAX_REPLICATIONS:
        raise ArgumentError(f"{name} must be between 1 and {MAX_REPLICATIONS:,}, got {n}")
    if months and n * months > MAX_SERIES_ROWS:
        raise ArgumentError(f"{name}: {n:,} replications x {months} months = {n * months:,} "
                            f"series rows; the limit is {MAX_SERIES_ROWS:,} (about 1 GB in "
                            "memory)")
    return n


def check_seed(value: Any, name: str = "seed") -> int:
    """0 <= seed <= 2**63 - 1 (a numpy SeedSequence entropy that every store can hold)."""
    s = _integer(value, name)
    if not 0 <= s <= MAX_SEED:
        raise ArgumentError(f"{name} must be between 0 and 2**63-1 ({MAX_SEED}), got {s}")
    return s


def check_workers(value: Any, name: str = "workers") -> int:
    """1 <= workers <= MAX_WORKERS."""
    w = _integer(value, name)
    if not 1 <= w <= MAX_WORKERS:
        raise ArgumentError(f"{name} must be between 1 and {MAX_WORKERS}, got {w}")
    return w
