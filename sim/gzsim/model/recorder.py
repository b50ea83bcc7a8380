"""Samples the processes' indicators once a month into arrays (entity events: the event log)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gzsim.model.process import Process


class Recorder:
    """Samples every process's indicators at each month end, after all of them stepped.

    Each process's monthly dicts are kept as they come (one list per process, no merging on
    the hot path) and turned into arrays once, at the end.
    """

    def __init__(self, processes: list[Process]):
        self._sources = [p.indicators for p in processes]
        self._rows: list[list[dict[str, float]]] = [[] for _ in self._sources]
        self._appends = [rows.append for rows in self._rows]

    def sample(self, month: int) -> None:
        """Record this month's indicator values of every process."""
        for fn, append in zip(self._sources, self._appends, strict=True):
            append(fn(month))

    @property
    def rows(self) -> list[dict[str, float]]:
        """Each recorded month as one dict of every indicator (built on demand, to inspect)."""
        out = []
        for parts in zip(*self._rows, strict=True):
            row: dict[str, float] = {}
            for part in parts:
                row.update(part)
            out.append(row)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded months as one float array per indicator.

        A later process's value of a name wins, in the place the name first took.
        """
        out: dict[str, np.ndarray] = {}
        for rows in self._rows:
            for name in rows[0] if rows else ():
                out[name] = np.fromiter((r[name] for r in rows), dtype=float, count=len(rows))
        return out
