"""Errors a user can see. Each carries the HTTP status the service answers with."""

from __future__ import annotations


class TrackrunError(Exception):
    """Base of every trackrun error; `status` is the HTTP code the service maps it to."""

    status = 500


class InvalidArgumentError(TrackrunError, ValueError):
    """The caller passed something malformed; the message says what and how to fix it."""

    status = 400


class NotFoundError(TrackrunError, KeyError):
    """A run, artifact, project or function that does not exist."""

    status = 404

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class ConflictError(TrackrunError):
    """The write conflicts with what is stored (e.g. a duplicate)."""

    status = 409


class RunError(TrackrunError):
    """A run ended in the error state; the message is the run's error."""

    status = 500

    def __init__(self, message: str, run: object | None = None):
        super().__init__(message)
        self.run = run


class StoreUnavailableError(TrackrunError):
    """The run database cannot be reached or written after retries."""

    status = 503
