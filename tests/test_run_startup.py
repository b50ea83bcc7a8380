"""What keeps `gzsim run`'s process pool cheap to start: no thread alive when it forks.

A live thread (rich's progress-bar refresher was one) makes the execution layer start workers
from a forkserver, which imports the model again (0.5-0.9 s of a 1.5 s budget, issue 13).
Structural checks only; the timing itself is `benchmarks/bench_run.py`'s.
"""

from __future__ import annotations

import threading

from gzsim.report import progress_bar


def test_progress_bar_starts_no_thread():
    before = threading.active_count()
    with progress_bar("replications", 3) as advance:
        assert threading.active_count() == before
        advance(1, 3)
        advance(3, 3)
        assert threading.active_count() == before
