"""Samples the district's state once a month into indicator arrays (no per-event logging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gzsim.model.district import District


class Recorder:
    """Samples every process's indicators at each month end, after all of them stepped."""

    def __init__(self, district: District):
        self.d = district
        self.rows: list[dict[str, float]] = []

    def sample(self, month: int) -> None:
        """Record this month's indicator values of every process."""
        row: dict[str, float] = {}
        for proc in self.d.processes:
            fn = getattr(proc, "indicators", None)
            if fn is not None:
                row.update(fn(month))
        self.rows.append(row)

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded months as one float array per indicator."""
        names = list(self.rows[0]) if self.rows else []
        return {n: np.array([r[n] for r in self.rows], dtype=float) for n in names}
