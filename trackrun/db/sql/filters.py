"""SQL conditions shared by the run and artifact queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnElement, and_, exists, not_

from trackrun.schemas.run import label_conditions


def escape_like(text: str) -> str:
    """Make ``text`` match literally inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Column, text: str) -> ColumnElement:
    """Case-insensitive substring match, the same on SQLite and PostgreSQL."""
    return column.ilike(f"%{escape_like(text)}%", escape="\\")


def label_filters(labels: Any, label_table: Any, owner_column: Column, owner_id: Column) -> list[ColumnElement]:
    """One condition per label filter (``k=v``, ``k!=v``, ``k~=v``, ``k``) on rows whose labels live in
    ``label_table`` (``owner_column`` pointing at ``owner_id``)."""
    conds = []
    for name, op, value in label_conditions(labels):
        match = and_(owner_column == owner_id, label_table.c.name == name)
        if op == "=":
            conds.append(exists().where(match, label_table.c.value == value))
        elif op == "!=":
            conds.append(not_(exists().where(match, label_table.c.value == value)))
        elif op == "~=":
            conds.append(exists().where(match, contains(label_table.c.value, value or "")))
        else:
            conds.append(exists().where(match))
    return conds
