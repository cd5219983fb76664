"""Output capture: what a run prints goes to the terminal as usual and, masked of secrets, to its log."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_FLUSH_SECONDS = 1.0


class LogSink:
    """Buffers log text and appends it to the run's log at most once a second (and on close)."""

    def __init__(self, db: Any, uid: str, project: str, mask: Callable[[str], str], header: str = ""):
        self.db, self.uid, self.project, self.mask = db, uid, project, mask
        self._parts: list[str] = [header] if header else []
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self.tail: list[str] = []  # the last lines, for error messages

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._parts.append(text)
            self.tail = (self.tail + text.splitlines())[-30:]
            due = time.monotonic() - self._last >= _FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            text, self._parts = "".join(self._parts), []
            self._last = time.monotonic()
        if text:
            try:
                self.db.store_log(self.uid, self.project, self.mask(text).encode(), append=True)
            except Exception as exc:  # the log must never break the run
                print(f"trackrun: could not store log of run {self.uid}: {exc}", file=sys.__stderr__)


class _Tee(io.TextIOBase):
    def __init__(self, stream: Any, sink: LogSink, echo: bool):
        self._stream, self._sink, self._echo = stream, sink, echo

    def write(self, text: str) -> int:
        if self._echo:
            self._stream.write(self._sink.mask(text))  # secrets are hidden on the terminal as in the log
        self._sink.write(text)
        return len(text)

    def flush(self) -> None:
        if self._echo:
            self._stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def fileno(self) -> int:
        return self._stream.fileno()


@contextlib.contextmanager
def capture_output(sink: LogSink, echo: bool = True) -> Iterator[LogSink]:
    """Tee sys.stdout and sys.stderr into ``sink`` for the duration of the block."""
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(old_out, sink, echo), _Tee(old_err, sink, echo)
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        sink.flush()


def iteration_header(iteration: int) -> str:
    return f"> --------------- Iteration: ({iteration}) ---------------\n" if iteration else ""
