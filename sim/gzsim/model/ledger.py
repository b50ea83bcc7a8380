"""Monthly books: flows and levels that processes write by calendar month.

Processes book money and capacity into month slots instead of waking up every month, which keeps
a replication in the tens of thousands of SimPy events. Books run past the horizon so that
what is booked beyond the last month is kept (money is conserved exactly).

A book is a plain list of floats: it is written and read one month at a time, where a NumPy
element costs several times a list item; each slot receives the same IEEE additions in the same
order as an array would, so the values are identical.
"""

from __future__ import annotations

import numpy as np


class Ledger:
    """Named monthly books (lists of floats that grow past the horizon as needed)."""

    def __init__(self, n_months: int, spill_months: int = 240):
        self.n_months = n_months
        self.size = n_months + spill_months
        self._books: dict[str, list[float]] = {}

    def _book(self, name: str, end: int) -> list[float]:
        """The book ``name`` (created empty), every book at least ``end`` months long."""
        if end > self.size:
            self.size = end + 120
            for a in self._books.values():
                a.extend([0.0] * (self.size - len(a)))
        a = self._books.get(name)
        if a is None:
            a = self._books[name] = [0.0] * self.size
        return a

    def add(self, name: str, month: int, value: float) -> None:
        """Book ``value`` into one month."""
        self._book(name, month + 1)[month] += value

    def get(self, name: str, month: int) -> float:
        """What one book holds for one month (0 for a book never written)."""
        a = self._books.get(name)
        return 0.0 if a is None or month >= len(a) else float(a[month])

    def total(self, name: str) -> float:
        """Sum of one book over every month, past the horizon included."""
        a = self._books.get(name)
        return 0.0 if a is None else float(np.array(a, dtype=float).sum())
