"""Process lifecycle: workers die with their driver; SIGTERM stops a driver as Ctrl-C does.

A worker process (a process pool's, pyabc's) runs :func:`watch_parent` once: a daemon thread
that polls ``os.getppid()`` and exits the worker as soon as the process that started it is
gone. So a driver killed with SIGKILL leaves no worker computing for nobody, and none holding
the locks or files it inherited. (``prctl(PR_SET_PDEATHSIG)`` is not used: on Linux it fires
when the *thread* that forked the worker ends, not the process, and it exists nowhere else.)
Under the forkserver start method the worker's parent is the fork server, which itself exits
when the driver does; the watchdog follows that chain.

The driver side: within :func:`terminating`, SIGTERM raises :class:`Interrupted` (a
``KeyboardInterrupt``), so both signals unwind through the same ``finally`` blocks: the
execution loop stops its workers at once (:func:`stop_pool`, not after their batches), sweep
sessions release their locks and write their statistics, temporary folders are removed.

A command-line process ends with :func:`exit_without_collection` registered: the interpreter's
shutdown would otherwise run full garbage collections over every object numpy, scipy, pydantic
and the model left loaded (0.1-0.15 s of each `gzsim` command, issue 21).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

#: how often a worker checks that its driver is alive (seconds): the longest an orphan lives
POLL_S = 0.2
#: exit status of a worker whose driver died
ORPHANED = 75
_watched: int | None = None  # the parent this process watches (None: not a worker)
_exit_frozen = False  # exit_without_collection registered in this process


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


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Within: SIGINT and SIGTERM are held, then delivered on leaving (main thread only).

    For starting something that must not be interrupted half-way: a Dask ``LocalCluster``
    interrupted inside its constructor is neither returned nor closed (distributed catches
    ``Exception`` there, not ``KeyboardInterrupt``), and its ``atexit`` hook then fails on its
    half-started workers with a traceback. Held, the signal acts once the cluster exists, and
    the unwinding closes it. A second signal while one is held acts at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def hold(signum: int, frame: Any) -> None:
        held.append(signum)
        for s, h in old.items():  # the next one is not held
            signal.signal(s, h)

    for s in old:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if held:  # delivered as the caller would have had it (KeyboardInterrupt, Interrupted...)
        signal.raise_signal(held[0])


def watch_parent() -> None:
    """In a worker process: exit (status :data:`ORPHANED`) when its parent process is gone.

    Idempotent per process; Ctrl-C in a terminal reaches the whole process group, so the
    worker also ignores SIGINT: its driver decides when it stops, with SIGTERM, which ends a
    worker at once (the driver's own SIGTERM handler, inherited through fork, is dropped).
    """
    global _watched
    if _watched == os.getpid():
        return
    _watched = os.getpid()
    parent = os.getppid()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the driver's (inherited by fork)
    threading.Thread(target=_poll, args=(parent,), name="gzsim-parent-watchdog",
                     daemon=True).start()


def _poll(parent: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent:  # re-parented: the driver (or fork server) died
            os._exit(ORPHANED)


def exit_without_collection() -> None:
    """At interpreter exit, freeze the heap so that shutdown does not collect it (idempotent).

    Module teardown runs full collections that walk every live object; frozen objects are out
    of their reach and the operating system reclaims the memory. Runs as an ``atexit`` handler,
    so after the command and its own ``atexit`` work, and only when the process really ends (an
    in-process caller such as a test runner is not affected before its own exit). Objects in
    reference cycles then skip ``__del__`` at exit, which Python never promises anyway; files
    gzsim writes are closed (and renamed into place) before a command returns.
    """
    global _exit_frozen
    if not _exit_frozen:
        _exit_frozen = True
        atexit.register(gc.freeze)


def stop_pool(pool: Any, grace_s: float = 2.0) -> None:
    """Stop a ``ProcessPoolExecutor`` now: terminate its workers, cancel what is queued.

    ``shutdown(wait=True)`` would wait for every running batch to finish (seconds to
    minutes); an interrupted or abandoned session must not.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.terminate()
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace_s
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)
