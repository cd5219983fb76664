"""Artifact URIs: ``store://artifacts/<project>/<key>[#<iter>][:<tag>][@<uid>]``.

The short form ``store://<project>/<key>...`` (no ``artifacts/``) is accepted too, and so are the
``datasets/`` and ``models/`` prefixes, which mean the same as ``artifacts/``. Keys may contain ``/``
(``plots/roc``) but never ``#``, ``:`` or ``@``. `store_uri` always writes the long ``artifacts/`` form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trackrun.errors import InvalidArgumentError

STORE_SCHEME = "store://"
KIND_PREFIXES = ("artifacts", "datasets", "models")
_EXAMPLE = "store://artifacts/my-project/plots/roc#2:latest@<uid>"

_PROJECT = r"[^/#:@\s]+"
_KEY = r"[^#:@\s]+"
_WORD = r"[^/#:@\s]+"
_TAIL_RE = re.compile(rf"^(?P<key>{_KEY})(?:#(?P<iter>\d+))?(?::(?P<tag>{_WORD}))?(?:@(?P<uid>{_WORD}))?$")
_PROJECT_RE = re.compile(rf"^{_PROJECT}$")
_WORD_RE = re.compile(rf"^{_WORD}$")


@dataclass(frozen=True)
class StoreRef:
    """A parsed artifact URI. ``iter`` is None when the URI names no iteration; ``tag`` and ``uid``
    are empty when not given."""

    project: str
    key: str
    iter: int | None = None
    tag: str = ""
    uid: str = ""

    @property
    def uri(self) -> str:
        """The canonical ``store://artifacts/...`` form of this reference."""
        return store_uri(self.project, self.key, iter=self.iter, tag=self.tag, uid=self.uid)

    def __str__(self) -> str:
        return self.uri


def is_store_uri(url: str) -> bool:
    """True when ``url`` is a ``store://`` artifact URI."""
    return isinstance(url, str) and url.startswith(STORE_SCHEME)


def _bad(uri: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid artifact URI {uri!r}: {why}; write it like {_EXAMPLE}")


def _check_key(key: str, uri: str) -> None:
    if key.startswith("/") or key.endswith("/") or "//" in key:
        raise _bad(uri, "the key has an empty path segment")
    if any(part in (".", "..") for part in key.split("/")):
        raise _bad(uri, "the key may not contain '.' or '..' segments")


def parse_store_uri(uri: str) -> StoreRef:
    """Split an artifact URI into a `StoreRef`; raise `InvalidArgumentError` when it is malformed."""
    if not is_store_uri(uri):
        raise _bad(str(uri), "it must start with 'store://'")
    body = uri[len(STORE_SCHEME):]
    head, sep, rest = body.partition("/")
    if head in KIND_PREFIXES and "/" in rest:
        # Long form; a project literally named like a prefix is still reachable through the long form.
        body = rest
    project, sep, tail = body.partition("/")
    if not sep or not project or not tail:
        raise _bad(uri, "it needs a project and a key")
    if not _PROJECT_RE.match(project):
        raise _bad(uri, f"bad project name {project!r}")
    match = _TAIL_RE.match(tail)
    if not match:
        raise _bad(uri, "the key may not contain '#', ':' or '@' and the suffixes must come in the order "
                        "#iter, :tag, @uid")
    key = match["key"]
    _check_key(key, uri)
    iter_ = int(match["iter"]) if match["iter"] is not None else None
    return StoreRef(project=project, key=key, iter=iter_, tag=match["tag"] or "", uid=match["uid"] or "")


def store_uri(project: str, key: str, iter: int | None = None, tag: str = "", uid: str = "") -> str:
    """Build ``store://artifacts/<project>/<key>[#iter][:tag][@uid]``; it round-trips with
    `parse_store_uri`. Raise `InvalidArgumentError` for parts that cannot appear in a URI."""
    shown = f"project={project!r}, key={key!r}"
    if not project or not _PROJECT_RE.match(project):
        raise InvalidArgumentError(
            f"cannot build an artifact URI: bad project name {project!r}; use a name without '/', '#', ':', '@'")
    if not key or not re.match(rf"^{_KEY}$", key):
        raise InvalidArgumentError(
            f"cannot build an artifact URI: bad key {key!r}; use a key without '#', ':', '@' or spaces")
    uri = f"{STORE_SCHEME}artifacts/{project}/{key}"
    _check_key(key, uri)
    if iter is not None:
        if isinstance(iter, bool) or not isinstance(iter, int) or iter < 0:
            raise InvalidArgumentError(
                f"cannot build an artifact URI ({shown}): iter must be an int >= 0, got {iter!r}")
        uri += f"#{iter}"
    for name, value, mark in (("tag", tag, ":"), ("uid", uid, "@")):
        if value:
            if not _WORD_RE.match(value):
                raise InvalidArgumentError(
                    f"cannot build an artifact URI ({shown}): bad {name} {value!r}; "
                    "use one without '/', '#', ':', '@' or spaces")
            uri += f"{mark}{value}"
    return uri
