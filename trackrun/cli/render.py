"""Printing records on the terminal: rich tables, ``k=v`` cells, JSON and YAML. NaN and infinities print as
the tokens NaN / Infinity / -Infinity everywhere, as Python's json writes them."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

CELL_LIMIT = 200  # characters of one value in a table cell; the full value is in --json / get run


def _cut(text: str, limit: int = CELL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_value(value: Any) -> str:
    """A value for a table cell, cut to CELL_LIMIT characters (a 20 MB parameter must not take minutes)."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list | dict):
        # serialise at most what the cell shows: a huge structure is cut, not dumped whole
        text = json.dumps(value[:CELL_LIMIT] if isinstance(value, list) else value, default=str)
        return _cut(text)
    return _format_scalar(value)


def _format_scalar(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return _cut(str(value))
    return _cut(json.dumps(value, default=str))


def format_pairs(mapping: dict | None, sep: str = ", ") -> str:
    return sep.join(f"{k}={format_value(v)}" for k, v in (mapping or {}).items())


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)


def to_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def console():
    """A rich console on stdout; when stdout is not a terminal, wide enough that uids are not cut."""
    from rich.console import Console

    width = None
    if not sys.stdout.isatty():
        width = int(os.environ.get("COLUMNS") or 0) or 400
    return Console(width=width, highlight=False, soft_wrap=False)


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "",
                no_wrap: Sequence[str] = ("uid",)) -> None:
    """A table whose cells are shown literally (text in square brackets is not rich markup)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title or None, show_lines=False)
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap, overflow="fold")
    for row in rows:
        table.add_row(*[Text(_cut(cell, 4 * CELL_LIMIT) if isinstance(cell, str) else format_value(cell))
                        for cell in row])
    console().print(table)
