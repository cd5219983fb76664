"""A progress bar for sweeps, on the terminal only (nothing is drawn when stderr is not a TTY)."""

from __future__ import annotations

import sys
from typing import Any


class SweepProgress:
    def __init__(self, name: str, total: int):
        self.name, self.total = name, total
        self._progress: Any = None
        self._task: Any = None
        self.failed = 0

    def __enter__(self) -> SweepProgress:
        return self

    def _start(self) -> None:
        # Started at the first finished iteration, after any worker processes were forked: forking while
        # the bar's refresh thread holds a lock could leave a worker waiting on it forever.
        if sys.__stderr__ is not None and sys.__stderr__.isatty():  # also under --no-watch, which hides output
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[failed]}"), TimeElapsedColumn(),
                                      console=Console(file=sys.__stderr__), transient=False)
            self._task = self._progress.add_task(self.name, total=self.total, failed="")
            self._progress.start()

    def advance(self, failed: bool) -> None:
        if self._progress is None and self._task is None:
            self._task = False
            self._start()
        self.failed += failed
        if self._progress is not None:
            self._progress.update(self._task, advance=1,
                                  failed=f"[red]{self.failed} failed" if self.failed else "")

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
