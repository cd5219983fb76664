"""Engines for the SQL store: SQLite tuned for many writing processes, PostgreSQL, and migrations.

SQLite: WAL journal (readers never block the writer), a 30 s busy timeout, and write transactions opened
with BEGIN IMMEDIATE so two writers queue for the lock up front instead of deadlocking on an upgrade
from a read lock; `write_retry` covers what the timeout does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from trackrun.errors import InvalidArgumentError, StoreUnavailableError

HEAD_REVISION = "0001"
_MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL, with the schema at HEAD_REVISION (migrated if older)."""
    if url.startswith("sqlite"):
        database = url.split(":///", 1)[1] if ":///" in url else ""
        if database and database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(database)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    elif url.startswith(("postgresql", "postgres")):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    else:
        raise InvalidArgumentError(f"unsupported database URL '{url.split('://')[0]}://...'; "
                                   "use a folder path, sqlite:///file.db or postgresql://user@host/db")
    ensure_schema(engine)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes; fsync at checkpoints
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # Writers (connections opened by `SQLStore._write`) take the lock at BEGIN; readers start deferred.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


class TransientWriteError(Exception):
    """A driver error worth retrying (lock timeout, serialization failure, dropped connection)."""


def is_transient(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).lower()
    return type(exc).__name__ in ("OperationalError", "SerializationFailure", "DeadlockDetected") and any(
        s in text_ for s in ("locked", "busy", "could not serialize", "deadlock", "connection"))


def write_retry(fn: Callable[[], T], what: str, timeout: float = 120.0) -> T:
    """Run a write transaction, retrying transient lock errors with jittered backoff."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return fn()
        except (OperationalError, TransientWriteError) as exc:
            if not (isinstance(exc, TransientWriteError) or is_transient(exc)) or time.monotonic() > deadline:
                raise StoreUnavailableError(f"could not {what}: {getattr(exc, 'orig', None) or exc}") from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:
            return None
        except Exception as exc:  # PostgreSQL: undefined table
            if "alembic_version" in str(exc):
                return None
            raise


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    """One migrator at a time: a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        db_file = engine.url.database or ""
        if not db_file or db_file == ":memory:":
            yield
            return
        with open(db_file + ".migrate.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(724113)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(724113)"))
                conn.commit()


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to HEAD_REVISION. Cheap when already there: alembic is imported only to migrate."""
    if _current_revision(engine) == HEAD_REVISION:
        return
    with _migration_lock(engine):
        if _current_revision(engine) == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
