"""When the named works under construction at the start open: planned date plus a random delay.

A named work (``infrastructure.pipeline``: a line under construction whose opening a source
planned) opens at

    T_open = P + 1/2 + (P - R) * max(-1, mu + sigma * z),   z = Phi^-1(u),

months from the scenario's start: P the planned opening month, R the month of the source's
progress report, so P - R is the time the work still had to go by its plan and the delay is a
schedule overrun in proportion to it (``pipeline_delay``: mean ``mu``, sd ``sigma``); -1 floors
the opening at the reading. ``u`` is one uniform per work from the stream
``infrastructure.pipeline``, drawn in the order of the list (inversion: with common random
numbers a larger ``mu`` never opens a work sooner). Openings before the start are clipped to it.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

from gzsim.scenario.types import parse_year_month

if TYPE_CHECKING:
    import numpy as np

    from gzsim.scenario.schema import TimeSpan
    from gzsim.scenario.schema_network import OpeningDelay, PipelineWork

__all__ = ["STREAM", "draw_openings", "opening_month"]

STREAM = "infrastructure.pipeline"
_INV_NORMAL = NormalDist().inv_cdf


def opening_month(work: PipelineWork, delay: OpeningDelay, time: TimeSpan, u: float) -> float:
    """SimPy time (months from the start) at which ``work`` opens, for the uniform ``u``."""
    planned = time.month_index(*parse_year_month(work.planned_opening))
    reading = time.month_index(*parse_year_month(work.reading))
    z = _INV_NORMAL(min(max(u, 1e-12), 1 - 1e-12))
    share = max(-1.0, delay.mean_share_of_remaining + delay.sd_share_of_remaining * z)
    return max(0.0, planned + 0.5 + (planned - reading) * share)


def draw_openings(works: list[PipelineWork], delay: OpeningDelay, time: TimeSpan,
                  rng: np.random.Generator) -> list[float]:
    """Opening times of the named works of one replication (one uniform each, list order)."""
    return [opening_month(w, delay, time, float(u)) for w, u in zip(
        works, rng.random(len(works)), strict=True)]
