"""Choose a RunDB by URL: a folder path or sqlite:/// opens the embedded store; postgresql:// the SQL store
on PostgreSQL; http(s):// the service client. Stores are cached per URL within a process."""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

from trackrun.config import config, home_dir
from trackrun.db.base import RunDB
from trackrun.errors import InvalidArgumentError, StoreUnavailableError, TrackrunError

DB_FILE = "trackrun.db"
_cache: dict[tuple[str, int], RunDB] = {}
_lock = threading.Lock()


def default_dbpath() -> str:
    """TRACKRUN_DBPATH, else ``~/.trackrun`` (or TRACKRUN_HOME)."""
    return config.dbpath or str(home_dir())


def resolve_url(path_or_url: str = "") -> str:
    """The SQLAlchemy or HTTP URL that a folder path, a file path or a URL names."""
    return _resolve(path_or_url or default_dbpath(), os.getcwd())


@functools.lru_cache(maxsize=64)
def _resolve(url: str, cwd: str) -> str:  # cwd is part of the key: a relative path depends on it
    if "://" in url:
        if url.startswith("file://"):
            url = url[len("file://"):]
        else:
            return url
    path = Path(url).expanduser().resolve()
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        return f"sqlite:///{path}"
    return f"sqlite:///{path / DB_FILE}"


def default_artifact_root(url: str) -> str:
    """Where artifact bodies go when no artifact path is configured: beside the embedded database."""
    if url.startswith("sqlite:///"):
        return str(Path(url[len("sqlite:///"):]).parent / "artifacts")
    return str(home_dir() / "artifacts")


def get_run_db(path_or_url: str = "", secrets: dict | None = None) -> RunDB:
    """Open (once per process) the run database at a folder path, a ``sqlite:///`` or ``postgresql://`` URL,
    or a service ``http(s)://`` URL; with no argument, the configured default (TRACKRUN_DBPATH)."""
    url = resolve_url(path_or_url)
    key = (url, os.getpid())  # engines are not shared across fork
    with _lock:
        db = _cache.get(key)
        if db is None:
            db = _open(url)
            _cache[key] = db
    return db


def _open(url: str) -> RunDB:
    scheme = url.split("://", 1)[0]
    if scheme in ("http", "https"):
        raise InvalidArgumentError(
            f"the HTTP service client is not available in this version; use a folder path or a "
            f"sqlite:/// URL for TRACKRUN_DBPATH (got {url})")
    if scheme.startswith(("sqlite", "postgres")):
        from trackrun.db.sql.store import SQLStore

        try:
            return SQLStore(url, artifact_root=config.artifact_path or default_artifact_root(url))
        except TrackrunError:
            raise
        except Exception as exc:  # a file that is no database, a read-only folder, a refused login...
            from trackrun.config import redact_url

            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreUnavailableError(f"cannot open the run database {redact_url(url)}: {reason}; "
                                        "check TRACKRUN_DBPATH (a folder, sqlite:///file.db or "
                                        "postgresql://...)") from None
    raise InvalidArgumentError(f"unsupported run database URL scheme '{scheme}://'; use a folder path, "
                               "sqlite:///file.db, postgresql://user@host/db or http://host:port")
