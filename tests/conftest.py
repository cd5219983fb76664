"""Shared fixtures: every test gets its own embedded store, so no test ever sees another's runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_s3"]

# Process-level variables that would leak state from the caller's shell (or from a test) into a test.
_CLEARED_ENV = ("TRACKRUN_ARTIFACT_PATH", "TRACKRUN_EXEC_CONFIG", "TRACKRUN_INLINE_SECRETS",
                "TRACKRUN_CONFIG_FILE", "TRACKRUN_DEFAULT_PROJECT")


def _forget_stores() -> None:
    """Close and drop every store `get_run_db` cached, and the context a handler left current."""
    factory = sys.modules.get("trackrun.db.factory")
    if factory is not None:
        with factory._lock:
            stores = list(factory._cache.values())
            factory._cache.clear()
        for store in stores:
            store.close()
    entry = sys.modules.get("trackrun.runtimes.entry")
    if entry is not None:
        entry.set_current_context(None)


@pytest.fixture(autouse=True)
def _own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TRACKRUN_DBPATH = <tmp_path>/db, no configured artifact path, and an empty store cache."""
    dbpath = tmp_path / "db"
    monkeypatch.setenv("TRACKRUN_DBPATH", str(dbpath))
    monkeypatch.setenv("TRACKRUN_HOME", str(tmp_path / "home"))
    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    _forget_stores()
    yield dbpath
    _forget_stores()


@pytest.fixture
def dbpath(_own_store: Path) -> Path:
    """The folder of this test's embedded store (holds trackrun.db and, by default, the artifacts)."""
    return _own_store


@pytest.fixture
def db(_own_store: Path):
    """This test's run database (the store `get_run_db()` opens for TRACKRUN_DBPATH)."""
    from trackrun.db import get_run_db

    return get_run_db()
