"""JSON for records: NaN and +/-inf kept (as the tokens NaN/Infinity), numpy scalars and dates converted."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def _default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return obj.item()
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy array
        return obj.tolist()
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return str(obj)


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_default, allow_nan=True, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return json.loads(text)
