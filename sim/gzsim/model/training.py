"""Training places (e.g. a technical college): cohorts graduate into the labour pool.

Each month a cohort of (base + policy) places / 12 starts; ``course_months`` later the
graduates (binomial on ``completion_share``) join the district's labour pool, the
``new_worker_share`` of them as people who were not in it before. Cohorts in course are a
first-in, first-out queue (monthly accounting: they start and graduate at month ends).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from gzsim.model.process import Indicator, Process

if TYPE_CHECKING:
    from gzsim.model.district import District


class TrainingProcess(Process):
    """Training places: cohorts start each month and graduate into the district's pool."""

    name = "training"
    section = "training"
    READS = ("jobs",)
    STREAMS = ("training.completion",)
    INDICATORS = (
        Indicator("workers_trained", "people", "district", "stock",
                  "graduates of training places who joined the labour pool (cumulative)"),
    )

    def __init__(self, district: District):
        super().__init__(district)
        self.completion_rng = self.rng("training.completion")
        self.graduates = 0
        self._carry = 0.0
        self.in_course: deque[tuple[int, int]] = deque()  # (month started, trainees)

    def step(self, month: int) -> None:
        """Start this month's cohort; graduate the cohort that started a course ago."""
        places = (self.cfg.places_per_year + self.d.levers(month).training_places_per_year) / 12
        self._carry += places
        starters = int(self._carry)
        self._carry -= starters
        if starters:
            self.in_course.append((month, starters))
        q = self.in_course
        if q and q[0][0] == month - self.cfg.course_months:
            _, started = q.popleft()
            done = int(self.completion_rng.binomial(started, self.cfg.completion_share))
            self.graduates += done
            self.jobs.add_workers(done * self.cfg.new_worker_share)

    def indicators(self, month: int) -> dict[str, float]:
        """Graduates so far."""
        return {"workers_trained": float(self.graduates)}
