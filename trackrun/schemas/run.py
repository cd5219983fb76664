"""Run record layout, states and the helpers that read and change it."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

CREATED, PENDING, RUNNING, COMPLETED, ERROR, ABORTED = (
    "created", "pending", "running", "completed", "error", "aborted")
STATES = (CREATED, PENDING, RUNNING, COMPLETED, ERROR, ABORTED)
TERMINAL_STATES = (COMPLETED, ERROR, ABORTED)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def parse_time(value: Any) -> float | None:
    """Seconds since the epoch from a datetime, an ISO string or a number; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    raise TypeError(f"cannot read a time from {value!r}")


def new_run_dict() -> dict:
    return {
        "kind": "run",
        "metadata": {"name": "", "uid": "", "iteration": 0, "project": "", "labels": {}, "annotations": {}},
        "spec": {"function": "", "log_level": "info", "parameters": {}, "handler": "", "outputs": [],
                 "output_path": "", "inputs": {}, "hyperparams": {}, "secret_sources": []},
        "status": {"state": CREATED, "results": {}, "artifacts": []},
    }


def get_in(struct: dict, path: str, default: Any = None) -> Any:
    node: Any = struct
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def set_in(struct: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = struct
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def apply_updates(struct: dict, updates: dict) -> dict:
    """A copy of struct with each dotted-key update applied."""
    out = copy.deepcopy(struct)
    for path, value in updates.items():
        set_in(out, path, value)
    return out


def numeric(value: Any) -> float | None:
    """The value as a float for indexing and sorting, or None when it is not a finite-or-infinite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range (10**400) still sorts, as +/-inf
        return math.inf if value > 0 else -math.inf
    return None if math.isnan(value) else value


def label_conditions(labels: Any) -> list[tuple[str, str, str | None]]:
    """Parse label filters into (name, op, value) with op one of '=', '!=', '~=', 'exists'."""
    from trackrun.errors import InvalidArgumentError

    if not labels:
        return []
    if isinstance(labels, dict):
        return [(str(k), "=", str(v)) for k, v in labels.items()]
    if isinstance(labels, str):
        labels = [part for part in labels.split(",") if part.strip()]
    out = []
    for cond in labels:
        cond = str(cond).strip()
        for op in ("!=", "~=", "="):
            if op in cond:
                name, value = cond.split(op, 1)
                if not name.strip():
                    raise InvalidArgumentError(f"label filter '{cond}' has no label name; use name=value")
                out.append((name.strip(), op, value.strip()))
                break
        else:
            out.append((cond, "exists", None))
    return out
