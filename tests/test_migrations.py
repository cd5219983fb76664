"""Migrations: a new database is brought to head, the migrated schema is exactly `tables.py`, and several
processes opening a new database at once all succeed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pg import fresh_database
from trackrun.db.sql import tables
from trackrun.db.sql.engine import HEAD_REVISION, make_engine


def _schema_differences(engine) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, tables.metadata)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database("trackrun_migrate") as url:
        yield url


def test_fresh_sqlite_file_migrates_to_head(tmp_path):
    path = tmp_path / "sub" / "fresh.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert path.exists()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        names = set(inspect(engine).get_table_names())
        assert set(tables.metadata.tables) <= names
        assert names - set(tables.metadata.tables) == {"alembic_version"}
    finally:
        engine.dispose()


def test_migrated_sqlite_schema_matches_the_tables(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()


def test_migrated_postgresql_schema_matches_the_tables(pg_url):
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()


def test_reopening_a_migrated_database_keeps_it_and_does_not_load_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'again.db'}"
    make_engine(url).dispose()
    probe = textwrap.dedent(f"""
        import json, sys
        from trackrun.db.sql.engine import make_engine
        make_engine({url!r}).dispose()
        print(json.dumps("alembic" in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is False
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


OPENER = """
    import os
    import sys
    import time

    from trackrun.db import get_run_db

    url, go, n = sys.argv[1], sys.argv[2], sys.argv[3]
    while not os.path.exists(go):
        time.sleep(0.002)
    db = get_run_db(url)
    run = {"metadata": {"name": "opener", "uid": f"u{n}", "project": "default", "labels": {}},
           "spec": {"parameters": {"n": int(n)}}, "status": {"state": "completed", "results": {"n": int(n)}}}
    db.store_run(run, f"u{n}")
    print("opened", n)
"""


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path, target, request):
    url = str(tmp_path / "new-store") if target == "sqlite" else request.getfixturevalue("pg_url")
    script = tmp_path / "opener.py"
    script.write_text(textwrap.dedent(OPENER))
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(script), url, str(go), str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for n in range(4)]
    time.sleep(0.3)  # let them all reach the start line
    go.write_text("go")
    for n, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert f"opened {n}" in out
    from trackrun.db.sql.store import SQLStore

    store = SQLStore(url if target == "postgresql" else f"sqlite:///{Path(url) / 'trackrun.db'}")
    try:
        assert sorted(r["metadata"]["uid"] for r in store.list_runs()) == ["u0", "u1", "u2", "u3"]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        store.close()
