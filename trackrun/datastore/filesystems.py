"""Pick the fsspec filesystem for a URL. fsspec (and s3fs) are imported only when first needed.

Supported: local paths and ``file://`` (LocalFileSystem), ``memory://`` (process-local), ``http://`` and
``https://`` (read-only) and ``s3://`` (needs the ``s3`` extra). Instances are cached per
(scheme, endpoint, access key id), so asking again is cheap.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from trackrun.datastore.paths import normalize_url, split_scheme
from trackrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SUPPORTED = "local paths, file://, memory://, http://, https://, s3:// and store://"
_KINDS = {"": "file", "file": "file", "memory": "memory", "http": "http", "https": "http", "s3": "s3"}

_cache: dict[tuple[str, str, str], AbstractFileSystem] = {}
_lock = threading.Lock()


def url_kind(url: str) -> str:
    """Return ``file``, ``memory``, ``http`` or ``s3`` for a URL; raise for unsupported schemes."""
    scheme = split_scheme(url)[0]
    try:
        return _KINDS[scheme]
    except KeyError:
        raise InvalidArgumentError(
            f"unsupported URL scheme '{scheme}://' in {url!r}; use one of {SUPPORTED}") from None


def _secret(secrets: dict | None, *names: str) -> str:
    """First non-empty value among ``names``, looked up in ``secrets`` and then in the environment."""
    for source in (secrets or {}, os.environ):
        for name in names:
            value = source.get(name)
            if value:
                return str(value)
    return ""


def _s3_filesystem(secrets: dict | None) -> tuple[tuple[str, str, str], Any]:
    endpoint = _secret(secrets, "S3_ENDPOINT_URL", "AWS_ENDPOINT_URL")
    key_id = _secret(secrets, "AWS_ACCESS_KEY_ID")
    cache_key = ("s3", endpoint, key_id)
    with _lock:
        if cache_key in _cache:
            return cache_key, _cache[cache_key]
    try:
        import s3fs
    except ImportError:
        raise InvalidArgumentError("s3:// needs the s3 extra: pip install 'trackrun[s3]'") from None
    kwargs: dict[str, Any] = {}
    if key_id:
        kwargs["key"] = key_id
        kwargs["secret"] = _secret(secrets, "AWS_SECRET_ACCESS_KEY")
        token = _secret(secrets, "AWS_SESSION_TOKEN")
        if token:
            kwargs["token"] = token
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    # The region comes from AWS_DEFAULT_REGION in the environment, read by botocore itself: passing
    # client_kwargs={"region_name": ...} breaks bucket creation against S3-compatible local servers.
    return cache_key, s3fs.S3FileSystem(**kwargs)


def filesystem(url: str, secrets: dict | None = None, write: bool = False) -> tuple[AbstractFileSystem, str]:
    """Return ``(fs, path)`` for ``url``: the fsspec filesystem and the path in the form that
    filesystem expects. ``secrets`` may hold AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
    and S3_ENDPOINT_URL (else the environment is used). With ``write=True`` read-only schemes raise
    `InvalidArgumentError`."""
    kind = url_kind(url)
    if kind == "http" and write:
        raise InvalidArgumentError(f"http(s) URLs are read-only; cannot write {url}; write to a path or s3:// URL")
    if kind == "s3":
        cache_key, fs = _s3_filesystem(secrets)
        path = url[len("s3://"):].strip("/")
        if not path:
            raise InvalidArgumentError(f"s3 URL {url!r} names no bucket; write it like s3://bucket/key")
    else:
        cache_key = (kind, "", "")
        with _lock:
            fs = _cache.get(cache_key)
        if fs is None:
            import fsspec

            fs = fsspec.filesystem({"file": "file", "memory": "memory", "http": "https"}[kind])
        if kind == "file":
            path = normalize_url(url)
        elif kind == "memory":
            path = fs._strip_protocol(url)
        else:
            path = url
    with _lock:
        fs = _cache.setdefault(cache_key, fs)
    return fs, path


def clear_cache() -> None:
    """Forget cached filesystem instances (e.g. after credentials changed)."""
    with _lock:
        _cache.clear()
