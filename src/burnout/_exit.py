"""How the ``burnout`` command ends: its status kept, Ctrl-C an interruption, no teardown.

Python's teardown of every loaded module (scipy, pandas, matplotlib, ibis) took 0.6-0.9 s
of every command after its last output was written; the command ends with ``os._exit``
once the atexit handlers have run and the streams are flushed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["run_and_exit"]


def run_and_exit(command: Callable[[], object]) -> NoReturn:
    """Run ``command`` (the CLI app) and end the process with the status ``sys.exit`` would give.

    Ctrl-C ends with 130, also when it came inside an engine query (see :func:`_watch_interrupts`).
    """
    interrupted = _watch_interrupts()
    try:
        command()
    except KeyboardInterrupt:
        code: str | int | None = 130
    except SystemExit as stop:
        code = stop.code
    except Exception:
        if not interrupted:
            raise
        code = 130  # Ctrl-C inside an engine query: DuckDB turns it into its own error
    else:
        code = 0
    _exit_now(code)


def _watch_interrupts() -> list[int]:
    """Note each Ctrl-C (SIGINT) before Python turns it into KeyboardInterrupt; the list of signals seen.

    A query that DuckDB is running when Ctrl-C comes is interrupted and raises DuckDB's own
    error ("Query interrupted") in place of KeyboardInterrupt; with the signal noted, that
    error ends the command as an interruption (status 130), not as a crash. A handler other
    than Python's default (set by the caller, or SIGINT ignored) is left alone.
    """
    import signal
    from types import FrameType

    seen: list[int] = []
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return seen

    def note(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    return seen


def _exit_now(code: str | int | None) -> NoReturn:
    """Exit as ``sys.exit(code)`` would, without Python's teardown of every loaded module.

    That teardown (scipy, pandas, matplotlib, ibis) took 0.6-0.9 s of every command,
    after its last output was written. atexit handlers still run (the helper process,
    temporary folders, logging) and the streams are flushed. A non-daemon thread still
    running gets the ordinary exit: it waits for the thread, then runs the handlers.
    """
    import atexit
    import os
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others):
        sys.exit(code)
    status = _exit_status(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # as Python does when stdout cannot be flushed at exit
            status = status or 120
    os._exit(status)


def _exit_status(code: str | int | None) -> int:
    """The status ``sys.exit(code)`` ends with: None is 0, an int itself, anything else printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
