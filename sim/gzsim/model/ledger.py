"""Monthly books: flows and levels that processes write by calendar month.

Processes book money and capacity into month slots instead of waking up every month, which keeps
a replication in the tens of thousands of SimPy events. Arrays run past the horizon so that
what is booked beyond the last month is kept (money is conserved exactly).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class Ledger:
    """Named monthly books (numpy arrays that grow past the horizon as needed)."""

    def __init__(self, n_months: int, spill_months: int = 240):
        self.n_months = n_months
        self.size = n_months + spill_months
        self._books: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(self.size))

    def _grow(self, end: int) -> None:
        if end > self.size:
            extra = end - self.size + 120
            for k, a in self._books.items():
                self._books[k] = np.concatenate([a, np.zeros(extra)])
            self.size += extra

    def add(self, name: str, month: int, value: float) -> None:
        """Book ``value`` into one month."""
        self._grow(month + 1)
        self._books[name][month] += value

    def add_span(self, name: str, start: int, months: int, per_month: float) -> None:
        """Book ``per_month`` into each of ``months`` months from ``start`` (a flow)."""
        self._grow(start + months)
        self._books[name][start : start + months] += per_month

    def add_ramp(self, name: str, start: int, ramp_months: int, level: float) -> None:
        """Raise a level linearly to ``level`` over ``ramp_months`` from ``start``, then hold."""
        self._grow(start + ramp_months)
        a = self._books[name]
        n = self.size - start
        if n <= 0:
            return
        frac = np.minimum(np.arange(1, n + 1) / ramp_months, 1.0)
        a[start:] += level * frac

    def get(self, name: str, month: int) -> float:
        """What one book holds for one month (0 for a book never written)."""
        a = self._books.get(name)
        return 0.0 if a is None or month >= len(a) else float(a[month])

    def series(self, name: str, horizon_only: bool = True) -> np.ndarray:
        """A copy of one book, cut at the horizon unless ``horizon_only`` is False."""
        a = self._books.get(name)
        if a is None:
            a = np.zeros(self.size)
        return a[: self.n_months].copy() if horizon_only else a.copy()

    def total(self, name: str) -> float:
        """Sum of one book over every month, past the horizon included."""
        a = self._books.get(name)
        return 0.0 if a is None else float(a.sum())

    def names(self, prefix: str = "") -> list[str]:
        """Names of the books that start with ``prefix``."""
        return sorted(k for k in self._books if k.startswith(prefix))
