"""Process lifecycle: workers die with their driver; SIGTERM stops a driver as Ctrl-C does.

A worker process (a process pool's, pyabc's) runs :func:`watch_parent` once: a daemon thread
that polls ``os.getppid()`` and exits the worker as soon as the process that started it is
gone. So a driver killed with SIGKILL leaves no worker computing for nobody, and none holding
the locks or files it inherited. (``prctl(PR_SET_PDEATHSIG)`` is not used: on Linux it fires
when the *thread* that forked the worker ends, not the process, and it exists nowhere else.)
Under the forkserver start method the worker's parent is the fork server, which itself exits
when the driver does; the watchdog follows that chain.

The driver side is :func:`gzsim.interrupt.terminating` (SIGTERM unwinds like Ctrl-C) and,
here, :func:`stop_pool`: an interrupted or abandoned execution loop stops its workers now
instead of waiting for their batches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any

#: how often a worker checks that its driver is alive (seconds): the longest an orphan lives
POLL_S = 0.2
#: exit status of a worker whose driver died
ORPHANED = 75
_watched: int | None = None  # the parent this process watches (None: not a worker)
_DRIVER_FDS: set[int] = set()  # closed in every process forked from this one


def drop_in_children(fd: int) -> None:
    """Close ``fd`` (a session lock) in processes forked from now on.

    A worker outliving its driver must not keep its lock (``flock`` follows the descriptor).
    """
    _DRIVER_FDS.add(fd)


def keep_in_children(fd: int) -> None:
    """Undo :func:`drop_in_children` (the driver closed ``fd``)."""
    _DRIVER_FDS.discard(fd)


def _close_driver_fds() -> None:
    for fd in list(_DRIVER_FDS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _DRIVER_FDS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_driver_fds)


def watch_parent() -> None:
    """In a worker process: exit (status :data:`ORPHANED`) when its parent process is gone.

    Idempotent per process; Ctrl-C in a terminal reaches the whole process group, so the
    worker also ignores SIGINT: its driver decides when it stops.
    """
    global _watched
    if _watched == os.getpid():
        return
    _watched = os.getpid()
    parent = os.getppid()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_poll, args=(parent,), name="gzsim-parent-watchdog",
                     daemon=True).start()


def _poll(parent: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent:  # re-parented: the driver (or fork server) died
            os._exit(ORPHANED)


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
