"""Logging an artifact: validate the key, hash the body, store it once, record the version.

Bodies land at ``<artifact path>/<key>/<hash[:16]>/<file name>``: readable on disk, one folder per version
content, so logging identical bytes again (by any run) reuses the stored file.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING, Any

from trackrun.artifacts import Artifact, DatasetArtifact, HtmlArtifact, LinkArtifact, ModelArtifact
from trackrun.errors import InvalidArgumentError
from trackrun.schemas.run import now_iso

if TYPE_CHECKING:
    from trackrun.context import RunContext

_BAD_KEY = re.compile(r"[#@:\\\x00-\x1f]")


def validate_key(key: Any) -> str:
    """A key is an opaque relative name (``plots/roc``); it may not escape the artifact root."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgumentError("an artifact needs a non-empty string key, e.g. log_artifact('model', ...)")
    if key.startswith("/") or _BAD_KEY.search(key):
        raise InvalidArgumentError(f"artifact key '{key}' is invalid: use a relative name without '#', '@', ':', "
                                   "backslashes or control characters (e.g. 'plots/roc')")
    parts = key.split("/")  # not PurePosixPath, which drops '.' and empty segments that store:// URIs refuse
    if any(part in ("..", ".") for part in parts):
        raise InvalidArgumentError(f"artifact key '{key}' escapes the artifact root; use a key without '..'")
    if "" in parts:
        raise InvalidArgumentError(f"artifact key '{key}' has an empty path segment; write it like 'plots/roc'")
    return key


def _file_name(local_path: str | None, key: str, fmt: str) -> str:
    if local_path:
        name = os.path.basename(local_path.rstrip("/"))
        if name in ("", ".", ".."):
            raise InvalidArgumentError(f"local_path '{local_path}' does not name a file")
        return name
    name = key.rsplit("/", 1)[-1]
    if fmt and not name.endswith("." + fmt):
        name = f"{name}.{fmt}"
    return name


def _exists(url: str, secrets: dict) -> bool:
    from trackrun.datastore.dataitem import get_dataitem
    from trackrun.datastore.paths import is_local

    return os.path.exists(url) if is_local(url) and "://" not in url else get_dataitem(url, secrets=secrets).exists()


def _hash_file(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def log_artifact(ctx: RunContext, item: Artifact | str, body: Any = None, local_path: str | None = None,
                 artifact_path: str | None = None, tag: str = "", viewer: str | None = None,
                 target_path: str = "", src_path: str | None = None, upload: bool | None = None,
                 labels: dict | None = None, format: str | None = None, db_key: str | None = None,
                 **kwargs: Any) -> dict:
    """Store the body and record a new version; return the artifact record (with its ``uri``)."""
    from trackrun.datastore import check_within, join_url, normalize_url, upload_file, write_bytes

    if isinstance(item, str):
        validate_key(item)
        fmt = format or (os.path.splitext(local_path or "")[1].lstrip(".") or None)
        cls = HtmlArtifact if (fmt or "").lower() in ("html", "htm") else Artifact
        item = cls(item, body=body, viewer=viewer, format=fmt)
    elif not isinstance(item, Artifact):
        raise InvalidArgumentError(f"log_artifact takes a key or an Artifact object, got {type(item).__name__}")
    elif body is not None:
        item._body = body
    key = validate_key(item.key)
    if labels:
        item.labels.update({str(k): str(v) for k, v in labels.items()})
    src_path = src_path or item.src_path

    data = item.get_body()
    source_file = None
    # a link points at a body stored elsewhere (another version, the best iteration's): none of its own
    is_link = isinstance(item, LinkArtifact) and data is None and not (src_path or local_path)
    if data is None and not is_link:
        source_file = src_path or local_path
        if not source_file:
            raise InvalidArgumentError(f"artifact '{key}' has no body: pass body=..., or local_path= of an "
                                       "existing file")
        source_file = normalize_url(source_file)
        if not os.path.isfile(source_file):
            raise InvalidArgumentError(f"artifact '{key}': local_path '{local_path or src_path}' is not a file")
    fmt = item.default_format() or (os.path.splitext(local_path or source_file or "")[1].lstrip("."))
    if data is not None:
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
    elif is_link:
        digest, size = None, None
    else:
        digest, size = _hash_file(source_file)

    root = normalize_url(artifact_path or ctx.artifact_path)
    target = target_path or item.target_path
    if target:
        if "://" not in target and not os.path.isabs(target):
            raise InvalidArgumentError(f"target_path '{target}' must be absolute or a URL; "
                                       "use local_path for a name inside the artifact path")
    elif not is_link:
        name = _file_name(local_path, key, fmt)
        target = join_url(root, key, digest[:16], name)
        check_within(root, target)
    # a body already stored at its content-addressed path is not written again
    if upload is not False and not is_link and (target_path or not _exists(target, ctx._secrets.values)):
        if data is not None:
            write_bytes(target, data, secrets=ctx._secrets.values)
        else:
            upload_file(source_file, target, secrets=ctx._secrets.values)

    record = {
        "kind": item.kind,
        "key": key,
        "db_key": db_key or f"{ctx.name}_{key}",
        "project": ctx.project,
        "iter": ctx.iteration,
        "tree": ctx._uid,
        "hash": digest,
        "size": size,
        "format": fmt,
        "viewer": item.viewer or viewer,
        "target_path": target,
        "labels": item.labels,
        "description": item.description,
        "producer": {"kind": "run", "name": ctx.name, "uri": f"{ctx.project}/{ctx._uid}",
                     "iteration": ctx.iteration},
        "sources": [{"name": k, "path": v} for k, v in ctx._inputs_urls.items()],
        "updated": now_iso(),
        **item.extra_fields(),
    }
    if isinstance(item, ModelArtifact | DatasetArtifact):
        record["extra_data"] = {k: str(v) for k, v in (record.get("extra_data") or {}).items()}
    version = ctx._db.store_artifact(record["db_key"], record, ctx._uid, iter=ctx.iteration, tag=tag,
                                     project=ctx.project)
    record["uid"] = version
    suffix = f"#{ctx.iteration}" if ctx.iteration else ""
    record["uri"] = f"store://artifacts/{ctx.project}/{record['db_key']}{suffix}@{version}"
    return record
