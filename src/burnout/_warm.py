"""Import the modules a later stage needs while the engine works on an earlier one; a helper process.

The analysis spends its first seconds in DuckDB, which releases the GIL, while the
statistics and report modules (scipy, statsmodels, matplotlib, great_tables) take
about 2.5 s of pure-Python importing that no engine work depends on. A daemon thread
imports them meanwhile; the main thread's own ``import`` then finds them loaded, or
waits on Python's per-module import lock for the one in progress. An import that
fails in the thread is ignored: the main thread raises the same error where it
imports the module.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

__all__ = [
    "HELPER_MODULES",
    "REPORT_MODULES",
    "STATISTICS_MODULES",
    "helper",
    "helper_process",
    "shared_map",
    "warm_imports",
]

T = TypeVar("T")
R = TypeVar("R")

STATISTICS_MODULES = ("burnout.measures", "burnout.results", "burnout.stats")
REPORT_MODULES = ("burnout.report.figures", "burnout.report.tables", "burnout.report.html")


def warm_imports(*modules: str) -> threading.Thread:
    """Start importing ``modules`` in a daemon thread; return the thread (already started)."""

    def run() -> None:
        # ibis first, whole: a thread that starts at a submodule (ibis.expr.types) while the
        # main thread runs ibis/__init__ deadlocks on the two module locks.
        for name in ("ibis", *modules):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - re-raised by the main thread's own import
                return

    thread = threading.Thread(target=run, name="burnout-warm-imports", daemon=True)
    thread.start()
    return thread


# -- a helper process -----------------------------------------------------------------
# Threads cannot share the pure-Python/numpy work of the imputation chains or matplotlib
# (measured: two threads were slower than one), so a second CPU gets a process. It is
# spawned (not forked: DuckDB's threads may hold locks) when the analysis starts and
# imports its modules while the engine validates, so the work handed to it later starts
# at once. Work is split so the result never depends on who ran which part.

_HELPER: ContextVar[tuple[Executor, Future[None]] | None] = ContextVar("burnout_helper", default=None)

HELPER_MODULES = ("burnout.stats.imputation", "burnout.report.figures")


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the task that needs it raises the error
            return


_POOL: list[Executor] = []  # the process-wide helper, started on first use (at most one)
_POOL_LOCK = threading.Lock()


@contextmanager
def helper_process(*modules: str) -> Iterator[Executor | None]:
    """The helper process, asked to import ``modules``, current (see :func:`helper`) until the block ends.

    None (and no process) when no CPU is free (see :func:`_worth_a_helper`). The process
    is started on first use and kept for the next analysis in the same Python process
    (a notebook, the tests): starting it costs a second or two of imports. It exits
    with the interpreter.
    """
    outer = _HELPER.get()
    if outer is not None:  # nested (the demo's analysis): share the outer one
        yield outer[0]
        return
    if not _worth_a_helper():
        yield None
        return
    pool, ready = _started(modules)
    token = _HELPER.set((pool, ready))
    try:
        yield pool
    finally:
        _HELPER.reset(token)


def _worth_a_helper() -> bool:
    """A second process only pays when a CPU is idle: its imports alone cost 2-3 s of CPU.

    ``BURNOUT_HELPER=1`` forces it, ``0`` forbids it; otherwise it needs 2+ CPUs and a
    1-minute load average of at most CPUs - 0.5 (measured on a 2-core machine: at load
    0.8 the helper cut the demo's analysis from 9.8 s to 7.6 s; at load 6 it made it
    slower, 26-30 s against 18-25 s). The average lags a minute behind, so the margin
    is half a CPU, not a whole one: a run just after another still gets its helper.
    """
    setting = os.environ.get("BURNOUT_HELPER", "")
    if setting in ("0", "1"):
        return setting == "1"
    cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this system: assume idle
        load = 0.0
    return cpus >= 2 and load <= cpus - 0.5


def _started(modules: tuple[str, ...]) -> tuple[Executor, Future[None]]:
    """The helper pool and the future of its importing ``modules`` (a new pool if none or broken)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with _POOL_LOCK:
        if _POOL:
            try:
                return _POOL[0], _POOL[0].submit(_import_all, modules)
            except (BrokenProcessPool, RuntimeError):  # it died: start another
                _POOL.clear()
        # spawn: starting it does not wait (forkserver waits for its server to preload)
        pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_helper,
        )
        with _blank_main():
            ready = pool.submit(_import_all, modules)  # starts the process now
        _POOL.append(pool)
        import atexit

        atexit.register(pool.shutdown, wait=True, cancel_futures=True)  # before module teardown: no noise at exit
        return pool, ready


def _start_helper() -> None:
    """In the helper, first: how it ends. As soon as the parent is gone, however it ended;
    quietly on Ctrl-C; at once, without Python's teardown, when stopped.

    A parent killed by a signal runs no atexit, and the helper's own copy of the task
    queue keeps its pipe open, so it would wait for work forever, holding the parent's
    stdout and stderr (a caller reading them to the end would hang too). multiprocessing
    gives a spawned child its parent's sentinel, which becomes ready when the parent ends.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to watch
        return
    # Ctrl-C reaches the whole process group: the parent reports it, the helper just goes
    # (Python's own handler would print the helper's traceback beside the parent's message)
    import signal

    signal.signal(signal.SIGINT, _interrupted)
    # Python runs that handler in the main thread only, at its next bytecode; the kernel may
    # give the signal to another thread while the main one waits in read() for work, which
    # then never returns (a CI run saw the helper alive 30 s after Ctrl-C). Python's own C
    # handler writes each signal's number to the wakeup fd from whichever thread got it.
    woken, wakeup = os.pipe()
    os.set_blocking(wakeup, False)
    signal.set_wakeup_fd(wakeup, warn_on_full_buffer=False)
    # Asked to stop, the helper has nothing left to write: Python's teardown of scipy,
    # matplotlib and the rest (~0.4 s) would only keep the parent's shutdown waiting.
    import atexit

    atexit.register(_leave_at_once)

    def watch() -> None:
        while woken in wait([parent.sentinel, woken]):
            if signal.SIGINT in os.read(woken, 64):
                _interrupted(signal.SIGINT, None)
        os._exit(0)

    threading.Thread(target=watch, name="burnout-exit-with-parent", daemon=True).start()


def _interrupted(signum: int, frame: object) -> None:
    """The helper's Ctrl-C: end quietly with the shell's status for it."""
    os._exit(128 + signum)


def _leave_at_once() -> None:
    """End the helper now, flushed, with status 0, on any exit that runs atexit.

    The status is 0 even if the worker loop failed: the parent's pool notices a dead
    worker by its pipes, not its status. atexit runs handlers last-registered first:
    those of work the helper did (temporary folders) still run; those skipped were
    registered at start-up by modules with nothing to finish in a helper (logging;
    multiprocessing finishes its own first).
    """
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or gone: nothing more can be written anyway
            pass
    os._exit(0)


@contextmanager
def _blank_main() -> Iterator[None]:
    """Hide the caller's ``__main__`` while the process starts.

    multiprocessing would otherwise run the caller's script again in the child
    (``init_main_from_path``): an unguarded script calling ``analyze`` would analyse
    twice. Our tasks are module-level functions of burnout, so the child needs no main.
    """
    import sys
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def helper() -> Executor | None:
    """The current helper process (see :func:`helper_process`) once it has imported its modules, or None.

    Until it is ready, work handed to it would wait behind its imports (seconds on a busy
    machine) while this process could have done it.
    """
    current = _HELPER.get()
    if current is None or not current[1].done() or current[1].exception() is not None:
        return None
    return current[0]


def shared_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(x) for x in items]``, the helper process taking items from the end meanwhile.

    The main thread works from the front; before each item it cancels the helper's
    pending task for it, and where that fails (the helper started or finished it) the two
    have met. ``fn`` must be a module-level function and its result must not depend on
    the process (same inputs, same bytes). Without a helper, or if the helper process
    dies, everything runs here.
    """
    pool = helper()
    if pool is None or len(items) < 2:
        return [fn(x) for x in items]
    from concurrent.futures.process import BrokenProcessPool

    futures: dict[int, Future[R]] = {}
    for i in range(len(items) - 1, 0, -1):  # the last first: the helper starts from the end
        try:
            futures[i] = pool.submit(fn, items[i])
        except (BrokenProcessPool, RuntimeError):  # dead or shut down: keep the rest here
            break
    out: list[R] = []
    for i, item in enumerate(items):
        fut = futures.get(i)
        if fut is not None and not fut.cancel():
            break
        out.append(fn(item))
    for item in items[len(out) :]:
        fut = futures[len(out)]
        try:
            out.append(fut.result())
        except BrokenProcessPool:
            out.append(fn(item))
    return out
