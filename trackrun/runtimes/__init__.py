"""Runtimes: how a run is launched. Kinds are registered as lazy "module:Class" strings so that choosing
one imports only it."""

from __future__ import annotations

import importlib

from trackrun.errors import InvalidArgumentError

KINDS = {
    "handler": "trackrun.runtimes.local:HandlerRuntime",
    "local": "trackrun.runtimes.local:LocalRuntime",
    "job": "trackrun.runtimes.local:JobRuntime",
}
PLANNED = ("dask", "mpijob", "spark", "remote", "nuclio")


def runtime_class(kind: str) -> type:
    """The class implementing ``kind``."""
    if kind not in KINDS:
        hint = " (not available in this version yet)" if kind in PLANNED else ""
        raise InvalidArgumentError(f"unknown function kind '{kind}'{hint}; use one of {', '.join(KINDS)}")
    module, cls = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), cls)
