"""A throw-away PostgreSQL database on the machine's server (127.0.0.1:5432, trust auth) for one test or
module; the test is skipped, with the reason, only when the server cannot be reached."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

PG_SERVER = os.environ.get("TRACKRUN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create a database, yield its URL, drop it afterwards (closing whatever still uses it)."""
    psycopg = pytest.importorskip("psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
