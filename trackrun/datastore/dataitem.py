"""`DataItem`: one file behind a URL (local path, memory://, http(s)://, s3:// or a store:// artifact),
with read, write and pandas helpers; plus `write_bytes` and `upload_file` for artifact bodies."""

from __future__ import annotations

import atexit
import contextlib
import os
import posixpath
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from trackrun.datastore.filesystems import filesystem, url_kind
from trackrun.datastore.paths import is_local, normalize_url, split_scheme
from trackrun.datastore.store_uri import is_store_uri, parse_store_uri
from trackrun.errors import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd
    from fsspec import AbstractFileSystem

_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
_FORMATS = ("csv", "tsv", "parquet", "pq", "json", "jsonl", "ndjson")


@dataclass(frozen=True)
class FileStat:
    """Size in bytes and last-modified time (UTC; None when the store does not say)."""

    size: int
    modified: datetime | None


# -- local copies of remote items: one private temp folder per process, removed at exit ------------------
_tmp_dir: str | None = None
_tmp_lock = threading.Lock()


def _local_copies_dir() -> str:
    global _tmp_dir
    with _tmp_lock:
        if _tmp_dir is None or not os.path.isdir(_tmp_dir):
            _tmp_dir = tempfile.mkdtemp(prefix="trackrun-data-")
            atexit.register(shutil.rmtree, _tmp_dir, True)
        return _tmp_dir


# -- atomic local writes ------------------------------------------------------------------------------
_umask: int | None = None


def _file_mode() -> int:
    """Mode for new files (0o666 less the process umask); mkstemp would make them owner-only."""
    global _umask
    if _umask is None:
        try:
            with open("/proc/self/status") as fh:
                _umask = next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
        except (OSError, StopIteration, ValueError):
            _umask = os.umask(0o022)
            os.umask(_umask)
    return 0o666 & ~_umask


def _atomic_local_write(path: str, writer: Any) -> None:
    """Write ``path`` through ``writer(fileobj)`` into a temp file beside it, then rename it into place,
    so readers never see half a file."""
    if os.path.isdir(path):
        raise InvalidArgumentError(f"cannot write {path}: it is a directory; give a file path")
    parent = os.path.dirname(path) or "."
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            # No fsync: like the run database (SQLite WAL, synchronous=NORMAL) a body survives a crashed
            # process, not a power cut; an fsync would cost more than the rest of a small run.
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else _file_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(url: str, body: bytes, secrets: dict | None = None) -> None:
    """Write ``body`` to ``url`` (replacing it). Local files are written atomically and their parent
    folders created; http(s) URLs are read-only."""
    if isinstance(body, str):
        body = body.encode()
    url = normalize_url(url)
    if is_local(url):  # no filesystem object needed: this is on every logged artifact's path
        _atomic_local_write(url, lambda fh: fh.write(body))
        return
    fs, path = filesystem(url, secrets, write=True)
    fs.pipe_file(path, body)


def upload_file(src_path: str, url: str, secrets: dict | None = None) -> None:
    """Copy the local file ``src_path`` to ``url`` (atomically for local targets, creating folders)."""
    src = normalize_url(src_path)
    if not os.path.isfile(src):
        raise NotFoundError(f"cannot upload {src_path}: no such file; check the source path")
    fs, path = filesystem(normalize_url(url), secrets, write=True)
    if url_kind(url) == "file":
        if os.path.exists(path) and os.path.samefile(src, path):
            return

        def copy(fh: IO[bytes]) -> None:
            with open(src, "rb") as in_fh:
                shutil.copyfileobj(in_fh, fh, 1 << 20)

        _atomic_local_write(path, copy)
    else:
        fs.put_file(src, path)


class DataItem:
    """One data file behind a URL. Reads go through fsspec; ``kind`` is ``file``, ``memory``, ``http``,
    ``s3`` or ``store`` (an artifact URI, whose body lives at ``url``; ``meta`` holds its record)."""

    def __init__(self, key: str, url: str, secrets: dict | None = None, meta: dict | None = None,
                 artifact_url: str | None = None):
        self.url = normalize_url(url)
        self._target_kind = url_kind(self.url)
        self.key = key or posixpath.basename(self._path_part().rstrip("/")) or self.url
        self.meta = meta
        self.artifact_url = artifact_url or self.url
        self.kind = "store" if is_store_uri(self.artifact_url) else self._target_kind
        self._secrets = secrets
        self._local_copy: str | None = None

    # -- description ------------------------------------------------------------------------------
    def _path_part(self) -> str:
        rest = split_scheme(self.url)[1] if self._target_kind != "file" else self.url
        return rest.split("?", 1)[0].split("#", 1)[0] if self._target_kind == "http" else rest

    @property
    def suffix(self) -> str:
        """The file extension including the dot (``.csv``), or ``""``."""
        return posixpath.splitext(posixpath.basename(self._path_part()))[1]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"DataItem(key={self.key!r}, url={self.url!r})"

    def _label(self) -> str:
        if self.kind == "store":
            return f"{self.url} (artifact {self.artifact_url})"
        return self.url

    def _fs(self, write: bool = False) -> tuple[AbstractFileSystem, str]:
        return filesystem(self.url, self._secrets, write=write)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise NotFoundError(f"no data at {self._label()}; check the URL or write the item first") from None
        except IsADirectoryError:
            raise InvalidArgumentError(
                f"{self._label()} is a directory, not a file; use listdir() or a file URL") from None

    # -- reading ----------------------------------------------------------------------------------
    def get(self, size: int | None = None, offset: int = 0, encoding: str | None = None) -> bytes | str:
        """Read the body, or ``size`` bytes from ``offset``; decode with ``encoding`` when given."""
        if offset < 0 or (size is not None and size < 0):
            raise InvalidArgumentError(f"bad range offset={offset} size={size}; both must be >= 0")
        fs, path = self._fs()
        with self._errors():
            if size == 0:
                if not fs.exists(path):
                    raise FileNotFoundError(path)
                body = b""
            elif size is None and not offset:
                body = fs.cat_file(path)
            else:
                end = offset + size if size is not None else None
                body = fs.cat_file(path, start=offset, end=end)
                if self._target_kind == "http":
                    body = self._fix_ignored_range(fs, path, body, offset, size)
        return body.decode(encoding) if encoding else body

    @staticmethod
    def _fix_ignored_range(fs: AbstractFileSystem, path: str, body: bytes, offset: int, size: int | None) -> bytes:
        """Servers without range support answer a range request with the whole body; cut the asked-for
        slice out of it. With offset > 0 an honoured range is always shorter than the whole file, so a
        body as long as the file means the range was ignored."""
        if size is not None and len(body) > size:
            return body[offset:offset + size]
        if offset:
            try:
                total = fs.size(path)
            except (OSError, NotImplementedError):
                total = None
            if total and len(body) == total:
                return body[offset:offset + size] if size is not None else body[offset:]
        return body

    def open(self, mode: str = "rb") -> IO[Any]:
        """Open the item as a file object (``rb``, ``r``, ``wb``, ``ab``...); use it as a context manager."""
        write = any(c in mode for c in "wax+")
        fs, path = self._fs(write=write)
        if write and self._target_kind == "file":
            os.makedirs(os.path.dirname(path), exist_ok=True)
        with self._errors():
            return fs.open(path, mode)

    def exists(self) -> bool:
        """True when something exists at the URL."""
        fs, path = self._fs()
        fs.invalidate_cache(path)
        return bool(fs.exists(path))

    def stat(self) -> FileStat:
        """Size and last-modified time of the item."""
        fs, path = self._fs()
        fs.invalidate_cache(path)
        with self._errors():
            info = fs.info(path)
            try:
                modified = fs.modified(path)
            except (NotImplementedError, KeyError, AttributeError, TypeError, ValueError):
                modified = None
        if isinstance(modified, datetime) and modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        return FileStat(size=int(info.get("size") or 0), modified=modified)

    def listdir(self) -> list[str]:
        """Names of the entries directly under this (folder) URL, sorted; sub-folders end with ``/``."""
        fs, path = self._fs()
        fs.invalidate_cache(path)
        with self._errors():
            if not fs.isdir(path):
                if fs.exists(path):
                    raise InvalidArgumentError(f"{self._label()} is a file, not a folder; listdir() needs a folder")
                raise FileNotFoundError(path)
            entries = fs.ls(path, detail=True)
        names = []
        for entry in entries:
            name = posixpath.basename(str(entry["name"]).rstrip("/"))
            if not name or str(entry["name"]).rstrip("/") == path.rstrip("/"):
                continue
            names.append(name + "/" if entry.get("type") == "directory" else name)
        return sorted(set(names))

    def local(self) -> str:
        """A local path with the item's content: the file itself for local URLs, else a temp copy (with
        the same suffix) downloaded on the first call and reused afterwards."""
        if self._target_kind == "file":
            if not os.path.exists(self.url):
                raise NotFoundError(f"no data at {self._label()}; check the URL or write the item first")
            return self.url
        if self._local_copy and os.path.exists(self._local_copy):
            return self._local_copy
        fd, tmp = tempfile.mkstemp(prefix="item-", suffix=self.suffix, dir=_local_copies_dir())
        os.close(fd)
        try:
            self.download(tmp)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._local_copy = tmp
        return tmp

    def download(self, target_path: str) -> None:
        """Copy the item to the local file ``target_path`` (folders created; replaced atomically)."""
        target = normalize_url(target_path)
        fs, path = self._fs()
        if self._target_kind == "file":
            if not os.path.isfile(path):
                with self._errors():
                    raise (IsADirectoryError if os.path.isdir(path) else FileNotFoundError)(path)
            if os.path.exists(target) and os.path.samefile(path, target):
                return
            upload_file(path, target)
            return
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=parent)
        os.close(fd)
        try:
            with self._errors():
                fs.get_file(path, tmp)
            os.chmod(tmp, _file_mode())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def as_df(self, columns: list[str] | None = None, format: str = "", **kwargs: Any) -> pd.DataFrame:
        """Load the item into a pandas DataFrame. The format (csv, tsv, parquet/pq, json, jsonl) comes
        from ``format`` or the suffix (compressed ``.csv.gz`` and the like work too); ``columns`` picks
        and orders columns; other keyword arguments go to the pandas reader."""
        fmt = (format or self._format_from_suffix()).lower().lstrip(".")
        if fmt not in _FORMATS:
            shown = f"format {fmt!r}" if fmt else "no format"
            raise InvalidArgumentError(
                f"cannot load {self._label()} as a data frame: {shown}; pass format= one of csv, tsv, "
                "parquet, json, jsonl")
        try:
            import pandas as pd
        except ImportError:
            raise InvalidArgumentError("as_df() needs pandas: pip install 'trackrun[data]'") from None
        path = self.local()
        wanted = list(columns) if columns else None
        try:
            if fmt in ("csv", "tsv"):
                if fmt == "tsv":
                    kwargs.setdefault("sep", "\t")
                if wanted:
                    kwargs.setdefault("usecols", lambda name: name in wanted)
                df = pd.read_csv(path, **kwargs)
            elif fmt in ("parquet", "pq"):
                df = pd.read_parquet(path, columns=wanted, **kwargs)
            else:
                if fmt in ("jsonl", "ndjson"):
                    kwargs.setdefault("lines", True)
                df = pd.read_json(path, **kwargs)
        except ImportError as exc:
            raise InvalidArgumentError(
                f"reading {fmt} needs more packages ({exc}): pip install 'trackrun[data]'") from None
        except FileNotFoundError:
            raise NotFoundError(f"no data at {self._label()}; check the URL or write the item first") from None
        if wanted:
            missing = [c for c in wanted if c not in df.columns]
            if missing:
                raise InvalidArgumentError(
                    f"{self._label()} has no column(s) {missing}; it has {list(df.columns)}")
            df = df[wanted]
        return df

    def _format_from_suffix(self) -> str:
        name = posixpath.basename(self._path_part()).lower()
        stem, ext = posixpath.splitext(name)
        if ext in _COMPRESSED:
            ext = posixpath.splitext(stem)[1]
        return ext.lstrip(".")

    # -- writing ----------------------------------------------------------------------------------
    def put(self, data: bytes | str, append: bool = False) -> None:
        """Write ``data`` (str is UTF-8 encoded), replacing the item or appending to it. Local files are
        replaced atomically; appending to a remote object rewrites it (not safe against concurrent
        writers)."""
        body = data.encode() if isinstance(data, str) else bytes(data)
        fs, path = self._fs(write=True)
        if self._target_kind == "file":
            if append:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "ab") as fh:
                    fh.write(body)
            else:
                _atomic_local_write(path, lambda fh: fh.write(body))
        else:
            if append:
                fs.invalidate_cache(path)
                if fs.exists(path):
                    body = fs.cat_file(path) + body
            fs.pipe_file(path, body)
        self._drop_local_copy()

    def upload(self, src_path: str) -> None:
        """Replace the item with the content of the local file ``src_path``."""
        self._fs(write=True)
        upload_file(src_path, self.url, self._secrets)
        self._drop_local_copy()

    def delete(self) -> None:
        """Remove the file; nothing happens when it is already gone."""
        fs, path = self._fs(write=True)
        fs.invalidate_cache(path)
        if fs.exists(path):
            if fs.isdir(path):
                raise InvalidArgumentError(f"{self._label()} is a folder; delete() removes single files only")
            with contextlib.suppress(FileNotFoundError):
                fs.rm_file(path)
        self._drop_local_copy()

    def _drop_local_copy(self) -> None:
        if self._local_copy:
            with contextlib.suppress(OSError):
                os.unlink(self._local_copy)
            self._local_copy = None


def get_dataitem(url: str | DataItem, key: str | None = None, secrets: dict | None = None, db: Any = None,
                 base_dir: str | None = None) -> DataItem:
    """Return a `DataItem` for ``url``: a path (relative ones are joined with ``base_dir`` or the current
    folder), a ``file://``, ``memory://``, ``http(s)://`` or ``s3://`` URL, or a ``store://`` artifact URI.
    Artifact URIs are looked up with ``db.read_artifact`` (default: the configured run DB) and the item
    reads the artifact's ``target_path``."""
    if isinstance(url, DataItem):
        return url
    url = normalize_url(url, base_dir)
    if not is_store_uri(url):
        return DataItem(key or "", url, secrets=secrets)
    ref = parse_store_uri(url)
    if db is None:
        from trackrun.db import get_run_db

        db = get_run_db()
    record = db.read_artifact(ref.key, tag=ref.tag, iter=ref.iter, project=ref.project, uid=ref.uid)
    target = (record or {}).get("target_path")
    if not target:
        raise InvalidArgumentError(
            f"artifact {url} has no target_path (no stored body); read its record with the run DB instead")
    return DataItem(key or ref.key, normalize_url(target, base_dir), secrets=secrets, meta=record,
                    artifact_url=url)
