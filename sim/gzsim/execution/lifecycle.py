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
import functools
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
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


def _forked_by_a_driver() -> None:
    """In a process forked within :func:`terminating` (a worker): not the driver's handlers.

    From the fork, before any of the worker's own code: :func:`watch_parent` does the same,
    but only once the worker is set up, and a worker stopped before that (a driver interrupted
    as its pool starts) raised the driver's ``Interrupted`` and printed its traceback.
    """
    if signal.getsignal(signal.SIGTERM) is _raise_interrupted:
        with contextlib.suppress(ValueError):  # not the main thread: nothing to undo
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_by_a_driver)


@contextlib.contextmanager
def terminating() -> Iterator[None]:
    """Within: SIGTERM raises :class:`Interrupted` in the main thread (elsewhere: no change).

    And an interruption that lands in a finalizer is not lost: Python runs a signal's handler
    wherever the main thread is, also in a ``__del__`` or a weakref callback (SQLAlchemy's,
    under pyabc, run often), whose exceptions it prints as "Exception ignored" and drops; the
    command would then go on to the end. :func:`_redeliver` sends the signal again instead.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_interrupted)
    old_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_redeliver, old_hook)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
        sys.unraisablehook = old_hook


def _redeliver(previous: Callable[[Any], None], unraisable: Any) -> None:
    """``sys.unraisablehook``: an interruption a finalizer swallowed is signalled again.

    To the main thread (so a blocking call there is interrupted too), from another thread, once
    the main thread has left this hook (raised in here, it would be dropped again). Anything
    else goes to the ``previous`` hook.
    """
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        previous(unraisable)
        return
    sig = getattr(unraisable.exc_value, "signal_number", signal.SIGINT)
    threading.Thread(target=_signal_after, args=(sig, sys._getframe()), daemon=True,
                     name="gzsim-redeliver-signal").start()


def _signal_after(sig: int, hook: Any) -> None:
    """Send ``sig`` to the main thread once the frame ``hook`` is off its stack."""
    main = threading.main_thread().ident
    while True:
        frame = sys._current_frames().get(main)
        while frame is not None and frame is not hook:
            frame = frame.f_back
        if frame is None:
            break
        time.sleep(0.001)
    del hook, frame
    signal.pthread_kill(main, sig)


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

    Gone: the worker was re-parented, or the process that started it (multiprocessing's
    ``parent_process()``, whose pipe closes when it dies, even before it is reaped) has
    exited. The second catches a driver killed between the worker's fork and this call (a
    forked worker may wait tens of ms to run on a loaded machine): the worker is then
    re-parented already, its parent "now" never changes, and it would wait for tasks forever.

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
    starter = multiprocessing.parent_process()
    if _orphaned(parent, starter):
        os._exit(ORPHANED)
    threading.Thread(target=_poll, args=(parent, starter), name="gzsim-parent-watchdog",
                     daemon=True).start()


def _orphaned(parent: int, starter: Any) -> bool:
    """Re-parented since the watch began, or the starting process has exited."""
    return os.getppid() != parent or (starter is not None and not starter.is_alive())


def _poll(parent: int, starter: Any) -> None:
    while True:
        time.sleep(POLL_S)
        if _orphaned(parent, starter):  # the driver (or fork server) died
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
