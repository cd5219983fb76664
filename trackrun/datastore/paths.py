"""URL and path helpers shared by the data store: normalising, joining and containment checks.

A "local URL" is a plain path (relative, absolute or ``~``-prefixed) or a ``file://`` URL; everything
with another ``scheme://`` prefix is left for the matching filesystem.
"""

from __future__ import annotations

import os
import posixpath
import re

from trackrun.errors import InvalidArgumentError

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def split_scheme(url: str) -> tuple[str, str]:
    """Return ``(scheme, rest)``: ``("s3", "bucket/key")`` for ``s3://bucket/key``; ``("", url)`` for a
    plain path. The scheme is lower-cased. ``file:/x`` (one slash) counts as ``("file", "/x")``."""
    match = _SCHEME_RE.match(url)
    if match:
        return match.group(1).lower(), url[match.end():]
    if url[:6].lower() == "file:/":
        return "file", url[5:]
    return "", url


def _local_path(rest: str, from_file_url: bool) -> str:
    if from_file_url and rest.startswith("localhost/"):
        rest = rest[len("localhost"):]
    return rest


def normalize_url(url: str, base_dir: str | None = None) -> str:
    """Make ``url`` canonical: a local path (or ``file://`` URL) becomes an absolute path with ``~``
    expanded and ``..`` folded, relative paths joined with ``base_dir`` (default: the current
    directory); URLs of other schemes come back unchanged."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidArgumentError(f"empty or non-string data URL {url!r}; pass a path or a URL such as s3://b/k")
    url = url.strip()
    scheme, rest = split_scheme(url)
    if scheme not in ("", "file"):
        return url
    path = os.path.expanduser(_local_path(rest, scheme == "file"))
    if not os.path.isabs(path):
        base = os.path.expanduser(base_dir) if base_dir else os.getcwd()
        if split_scheme(base)[0] not in ("", "file"):
            return join_url(base, path)
        path = os.path.join(normalize_url(base), path)
    return os.path.normpath(path)


def is_local(url: str) -> bool:
    """True for plain paths and ``file://`` URLs."""
    return split_scheme(url)[0] in ("", "file")


def join_url(base: str, *parts: str) -> str:
    """Append path parts to a local path or a URL: ``join_url("s3://b/dir", "a", "x.csv")`` gives
    ``s3://b/dir/a/x.csv``. Leading slashes of the parts are dropped, so a part never replaces the
    base the way ``os.path.join`` would; empty parts are skipped."""
    pieces = [p.strip("/") if i else p for i, p in enumerate((base, *parts)) if p]
    if not pieces:
        return ""
    out = pieces[0]
    for piece in pieces[1:]:
        if not piece:
            continue
        out = out + piece if out.endswith("/") else f"{out}/{piece}"
    return out


def _url_root_and_path(url: str) -> tuple[str, str]:
    """Split ``scheme://netloc/path`` into (``scheme://netloc``, ``/path``)."""
    scheme, rest = split_scheme(url)
    if scheme == "memory":  # memory:// paths have no host part
        netloc, path = "", rest
    else:
        netloc, _, path = rest.partition("/")
    return f"{scheme}://{netloc}", "/" + path.lstrip("/")


def check_within(root: str, path: str) -> str:
    """Return the full location of ``path`` (relative to ``root``, or absolute) after checking it stays
    inside ``root``. ``..`` segments are folded and, for local paths, symlinks are resolved; a path
    that escapes raises `InvalidArgumentError`."""
    if not root:
        raise InvalidArgumentError("empty artifact root; configure an artifact path for the project")
    if is_local(root):
        root_abs = normalize_url(root)
        if not is_local(path):
            raise InvalidArgumentError(
                f"artifact path {path!r} is not under the local artifact root {root_abs}; use a relative key")
        scheme, rest = split_scheme(path)
        rest = os.path.expanduser(_local_path(rest, scheme == "file"))
        target = os.path.normpath(rest if os.path.isabs(rest) else os.path.join(root_abs, rest))
        if not _inside(os.path.normpath(root_abs), target):
            raise _escape_error(path, root_abs)
        real_root, real_target = os.path.realpath(root_abs), os.path.realpath(target)
        if not _inside(real_root, real_target):
            raise InvalidArgumentError(
                f"artifact path {path!r} resolves through a symlink to {real_target}, outside the artifact "
                f"root {root_abs}; remove the link or use another key")
        return target
    root_base, root_path = _url_root_and_path(root.rstrip("/"))
    if split_scheme(path)[0]:
        base, sub = _url_root_and_path(path)
        if base != root_base:
            raise _escape_error(path, root)
        target_path = posixpath.normpath(sub)
    else:
        target_path = posixpath.normpath(posixpath.join(root_path, path))
    root_path = posixpath.normpath(root_path)
    if not _inside(root_path, target_path, sep="/"):
        raise _escape_error(path, root)
    if root_base == "memory://":
        return root_base + target_path.lstrip("/")
    return root_base + target_path


def _inside(root: str, target: str, sep: str = os.sep) -> bool:
    return target == root or target.startswith(root if root.endswith(sep) else root + sep)


def _escape_error(path: str, root: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"artifact path {path!r} escapes the artifact root {root}; use a relative key without '..' "
        "that stays inside it")
