"""The RunDB contract. Its docstrings are the specification every store meets (sqlite, postgresql, http).

Conventions shared by all methods:
- ``project`` defaults to the configured default project when empty.
- Runs are identified by (project, uid, iteration); iteration 0 is a single run or a hyper-parameter parent,
  1..N are its iterations.
- Label conditions are strings: ``"k=v"`` (equal), ``"k!=v"`` (differs or absent), ``"k~=v"`` (substring),
  ``"k"`` (present). A dict ``{"k": "v"}`` means equality on each pair.
- A missing object raises `NotFoundError`; malformed arguments raise `InvalidArgumentError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from trackrun.schemas.lists import ArtifactList, RunList


class RunDB(ABC):
    """Where runs, logs, metrics, artifacts' metadata and functions are recorded."""

    kind = "base"
    url = ""

    def connect(self, secrets: Any = None) -> RunDB:
        """Kept for code written against the seed's API; stores connect lazily."""
        return self

    # -- runs -------------------------------------------------------------------------------------
    @abstractmethod
    def store_run(self, struct: dict, uid: str, project: str = "", iter: int = 0) -> None:
        """Create the run record, or replace it whole when it exists. Labels and numeric results are
        indexed for filtering and sorting; the stored dict is returned unchanged by `read_run`."""

    @abstractmethod
    def update_run(self, updates: dict, uid: str, project: str = "", iter: int = 0) -> None:
        """Apply ``{"status.state": "error", "metadata.labels.x": "1", ...}``: each dotted key replaces the
        value at that path. Raises `NotFoundError` when the run does not exist."""

    @abstractmethod
    def read_run(self, uid: str, project: str = "", iter: int = 0) -> dict:
        """Return the run dict. A run left ``running`` by a process that died is marked ``aborted`` first."""

    @abstractmethod
    def list_runs(
        self,
        name: str = "",
        uid: str | list[str] | None = None,
        project: str = "",
        labels: list[str] | dict | str | None = None,
        state: str = "",
        sort: bool = True,
        last: int = 0,
        iter: bool = False,
        start_time_from: Any = None,
        start_time_to: Any = None,
        sort_by: str = "",
        offset: int = 0,
    ) -> RunList:
        """Runs matching every given filter.

        name: exact, or substring with a leading ``~``. project: ``"*"`` for all projects.
        iter: False returns iterations 0 only (singles and hyper parents); True includes iterations.
        sort: newest start first when True. sort_by: ``"results.<key>"``, ``"parameters.<key>"``,
        ``"start_time"``, ``"name"``, ``"state"``; prefix ``-`` for descending; numeric for results.
        Runs without the sort key come last. last: at most this many (0 = all); offset skips that many.
        start_time_from / start_time_to: datetimes or ISO strings, inclusive range.
        """

    @abstractmethod
    def count_runs(self, name: str = "", project: str = "", labels: Any = None, state: str = "",
                   iter: bool = False, start_time_from: Any = None, start_time_to: Any = None) -> int:
        """How many runs `list_runs` would return with the same filters and no limit."""

    @abstractmethod
    def del_run(self, uid: str, project: str = "", iter: int | None = None) -> None:
        """Delete a run; with iter None, the run and all its iterations, logs and metrics."""

    @abstractmethod
    def del_runs(self, name: str = "", project: str = "", labels: Any = None, state: str = "",
                 days_ago: int = 0) -> int:
        """Delete the runs matching the filters (with their iterations); return how many were deleted.
        days_ago: only runs started at least that many days ago."""

    # -- logs and metrics -------------------------------------------------------------------------
    @abstractmethod
    def store_log(self, uid: str, project: str = "", body: bytes = b"", append: bool = False) -> None:
        """Append to (or replace) the run's log."""

    @abstractmethod
    def get_log(self, uid: str, project: str = "", offset: int = 0, size: int = 0) -> tuple[str, bytes]:
        """Return (run state, log bytes from offset; at most size bytes when size > 0)."""

    @abstractmethod
    def store_metrics(self, uid: str, project: str, iter: int, points: Iterable[tuple]) -> None:
        """Append metric points ``(key, step, value, timestamp)`` to the run's time series."""

    @abstractmethod
    def list_metrics(self, uid: str, project: str = "", iter: int = 0, key: str = "") -> dict[str, list]:
        """Return ``{key: [(step, value, timestamp), ...]}`` ordered by step then time."""

    # -- artifacts --------------------------------------------------------------------------------
    @abstractmethod
    def store_artifact(self, key: str, artifact: dict, uid: str, iter: int | None = None, tag: str = "",
                       project: str = "") -> str:
        """Record a new version of artifact ``key`` produced by run ``uid`` (the tree) and return the
        version id. The ``latest`` tag moves to it; ``tag`` (if given) is set on it too, moving from any
        other version of the same key. An existing version id in ``artifact['uid']`` is updated instead."""

    @abstractmethod
    def tag_artifact(self, key: str, tag: str, project: str = "", uid: str = "") -> None:
        """Point ``tag`` at version ``uid`` of ``key``, moving it from any other version."""

    @abstractmethod
    def mark_best_iteration(self, project: str, tree: str, iteration: int) -> None:
        """Flag the artifacts that iteration ``iteration`` of hyper run ``tree`` logged as the best ones
        (``list_artifacts(best_iteration=True)`` returns them)."""

    @abstractmethod
    def read_artifact(self, key: str, tag: str = "", iter: int | None = None, project: str = "",
                      tree: str = "", uid: str = "") -> dict:
        """One version: by version ``uid``, else by ``tree`` (producer run) and ``iter``, else by ``tag``
        (default ``latest``). Raises `NotFoundError` when none matches."""

    @abstractmethod
    def list_artifacts(self, name: str = "", project: str = "", tag: str = "", labels: Any = None,
                       since: Any = None, until: Any = None, iter: int | None = None,
                       best_iteration: bool = False, kind: str = "", tree: str = "") -> ArtifactList:
        """Artifact versions. tag: ``""``/``"latest"`` the newest of each key, ``"*"`` every version,
        else versions carrying that tag. name: substring of the key (``=`` prefix for exact).
        best_iteration: only versions from the best iteration of a hyper run (or from single runs)."""

    @abstractmethod
    def del_artifact(self, key: str, tag: str = "", project: str = "", uid: str = "") -> None:
        """Delete one version (by uid or tag) or, with neither, every version of the key."""

    @abstractmethod
    def del_artifacts(self, name: str = "", project: str = "", tag: str = "", labels: Any = None) -> int:
        """Delete matching artifact versions' records; return how many."""

    # -- projects and functions -------------------------------------------------------------------
    @abstractmethod
    def list_projects(self) -> list[dict]:
        """Projects with their run and artifact counts: ``[{"name", "runs", "artifacts", "created"}]``."""

    @abstractmethod
    def delete_project(self, name: str) -> None:
        """Delete a project and everything recorded in it."""

    @abstractmethod
    def store_function(self, function: dict, name: str, project: str = "", tag: str = "",
                       versioned: bool = False) -> str:
        """Store a function; return its content hash. With versioned, the version is kept under its hash;
        the tag (default ``latest``) points at it."""

    @abstractmethod
    def get_function(self, name: str, project: str = "", tag: str = "", hash_key: str = "") -> dict:
        """A function by hash, else by tag (default ``latest``)."""

    @abstractmethod
    def delete_function(self, name: str, project: str = "") -> None:
        """Delete every version and tag of a function."""

    @abstractmethod
    def list_functions(self, name: str = "", project: str = "", tag: str = "", labels: Any = None) -> list[dict]:
        """Functions (their tagged versions; every version with tag ``"*"``)."""

    # -- conveniences, written once in terms of the core ------------------------------------------
    def store_metric(self, uid: str, project: str, iter: int, key: str, value: float, step: int,
                     timestamp: float) -> None:
        """One metric point: a batch of one."""
        self.store_metrics(uid, project, iter, [(key, step, value, timestamp)])

    def close(self) -> None:  # noqa: B027 - optional for stores without connections
        """Release connections."""
