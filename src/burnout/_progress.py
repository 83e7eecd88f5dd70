"""Stage progress for long runs: "[2/4] Scoring ... (3.1 s)", one line per finished stage.

On a terminal the running stage shows a spinner and its elapsed time (so a step that
takes 20 s on 200,000 patients is visibly alive), and a plain line with the stage's
time is printed when it ends. Elsewhere (a log file, a pipe, tests) only that plain
line per finished stage is printed. ``quiet`` prints nothing. Lines are printed
without Rich markup or emoji codes, so nothing in them is interpreted.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["StageProgress"]


class StageProgress:
    """Numbered stages of one run, shown on ``console`` (None or ``quiet``: silent).

    The creator knows how many stages the whole run has (``total``); code it calls
    numbers its own stages on with :meth:`next`, so a run counts ``[1/N]..[N/N]``.
    Use it as a context manager: leaving it ends the current stage (and stops the
    live display, also on an error).

    >>> with StageProgress(None, total=2) as stages:
    ...     stages.next("Loading")
    ...     stages.next("Writing")
    >>> [label for label, _ in stages.seconds]
    ['Loading', 'Writing']
    """

    def __init__(self, console: Console | None, *, total: int, quiet: bool = False) -> None:
        self.console = None if quiet else console
        self.total = total
        self.seconds: list[tuple[str, float]] = []
        self._current: tuple[str, str, float] | None = None  # label, "[i/N] label", start
        self._live: Any = None

    def next(self, label: str) -> None:
        """End the running stage (printing its time) and start the stage ``label``."""
        self._end(print_line=True)
        title = f"[{len(self.seconds) + 1}/{self.total}] {label}"
        self._current = (label, title, time.perf_counter())
        if self.console is not None and self.console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._live = Progress(
                SpinnerColumn(),
                TextColumn("{task.fields[title]}", markup=False),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._live.add_task("", total=None, title=title)
            self._live.start()

    def _end(self, *, print_line: bool) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._current is None:
            return
        label, title, start = self._current
        self._current = None
        seconds = time.perf_counter() - start
        self.seconds.append((label, seconds))
        if print_line and self.console is not None:
            self.console.print(f"{title} ({seconds:.1f} s)", markup=False, highlight=False, emoji=False)

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end(print_line=exc_type is None)
