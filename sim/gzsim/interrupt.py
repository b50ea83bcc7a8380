"""SIGTERM stops a gzsim command as Ctrl-C does: one way to unwind, whatever the signal.

Within :func:`terminating`, SIGTERM raises :class:`Interrupted` (a ``KeyboardInterrupt``), so
both signals run the same ``finally`` blocks: the execution loop stops its workers
(:func:`gzsim.execution.lifecycle.stop_pool`), sweep sessions release their locks and write
their statistics, and temporary folders are removed. Kept apart from :mod:`gzsim.execution`
so the command line can install it before importing the model.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class Interrupted(KeyboardInterrupt):
    """The driver received SIGTERM: unwind like Ctrl-C (``KeyboardInterrupt``)."""

    signal_number = signal.SIGTERM


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def terminating() -> Iterator[None]:
    """Within: SIGTERM raises :class:`Interrupted` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


