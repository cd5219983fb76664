"""The hot writes (a run's record, an artifact version, log chunks, metric batches) as plain SQL on the
driver connection.

Every run makes a few of these, and going through SQLAlchemy's statement machinery cost ten times the
statements themselves (1 ms against 0.1 ms per write transaction on SQLite, measured with bench/). The
SQL below is the common subset of SQLite (>= 3.35) and PostgreSQL: ``RETURNING`` and
``ON CONFLICT ... DO UPDATE``; placeholders are written ``?`` and turned into ``%s`` for psycopg.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

RUN_FIELDS = ("name", "state", "start_time", "last_update", "host", "pid", "pid_start", "body")

SQL = {
    "ensure_project": "INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
    "upsert_run": "INSERT INTO runs (project, uid, iteration, " + ", ".join(RUN_FIELDS) + ") VALUES ("
                  + ", ".join("?" * (3 + len(RUN_FIELDS))) + ") ON CONFLICT (project, uid, iteration) DO UPDATE SET "
                  + ", ".join(f"{f} = excluded.{f}" for f in RUN_FIELDS) + " RETURNING id",
    "update_run_checked": "UPDATE runs SET " + ", ".join(f"{f} = ?" for f in RUN_FIELDS)
                          + " WHERE id = ? AND project = ? AND uid = ? AND iteration = ? AND last_update = ?",
    "delete_labels": "DELETE FROM run_labels WHERE run_id = ?",
    "delete_numbers": "DELETE FROM run_numbers WHERE run_id = ?",
    "insert_label": "INSERT INTO run_labels (run_id, name, value) VALUES (?, ?, ?)",
    "insert_number": "INSERT INTO run_numbers (run_id, field, key, value) VALUES (?, ?, ?, ?)",
    "artifact_id": "SELECT id FROM artifacts WHERE uid = ?",
    "insert_artifact": "INSERT INTO artifacts (uid, project, key, tree, iteration, kind, hash, size, target_path, "
                       "updated, best, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    "update_artifact": "UPDATE artifacts SET project = ?, key = ?, tree = ?, iteration = ?, kind = ?, hash = ?, "
                       "size = ?, target_path = ?, updated = ?, best = ?, body = ? WHERE id = ?",
    "delete_artifact_labels": "DELETE FROM artifact_labels WHERE artifact_id = ?",
    "insert_artifact_label": "INSERT INTO artifact_labels (artifact_id, name, value) VALUES (?, ?, ?)",
    "set_artifact_tag": "INSERT INTO artifact_tags (project, key, tag, artifact_id) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (project, key, tag) DO UPDATE SET artifact_id = excluded.artifact_id",
    "delete_log": "DELETE FROM logs WHERE project = ? AND uid = ?",
    "insert_log": "INSERT INTO logs (project, uid, body) VALUES (?, ?, ?)",
    "insert_metric": "INSERT INTO metrics (project, uid, iteration, key, step, value, timestamp) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
}


@functools.cache
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class RawTx:
    """Statements inside one write transaction on the driver connection."""

    def __init__(self, cursor: Any, postgres: bool):
        self.cursor = cursor
        self.postgres = postgres

    def execute(self, name: str, params: Sequence = ()) -> Any:
        sql = SQL[name]
        self.cursor.execute(_pg(sql) if self.postgres else sql, params)
        return self.cursor

    def executemany(self, name: str, rows: list[Sequence]) -> None:
        if rows:
            sql = SQL[name]
            self.cursor.executemany(_pg(sql) if self.postgres else sql, rows)

    def scalar(self, name: str, params: Sequence = ()) -> Any:
        row = self.execute(name, params).fetchone()
        return None if row is None else row[0]


def run_raw(sa_connection: Any, fn: Callable[[RawTx], T]) -> T:
    """Run ``fn`` in one transaction on the driver connection under ``sa_connection`` (which must not be in
    a SQLAlchemy transaction). SQLite takes the write lock at BEGIN IMMEDIATE, like the Core path."""
    dbapi = sa_connection.connection.driver_connection
    postgres = sa_connection.dialect.name == "postgresql"
    cursor = dbapi.cursor()
    try:
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        try:
            result = fn(RawTx(cursor, postgres))
        except BaseException:
            dbapi.rollback() if postgres else cursor.execute("ROLLBACK")
            raise
        dbapi.commit() if postgres else cursor.execute("COMMIT")
        return result
    finally:
        cursor.close()
