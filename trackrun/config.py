"""One settings object: defaults < config file (TRACKRUN_CONFIG_FILE) < TRACKRUN_* environment.

Nested keys use "__" in the environment, as in ``TRACKRUN_httpdb__port=8080``. Values are read fresh on
every access so that a test or a notebook that changes the environment is obeyed at once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from trackrun.errors import InvalidArgumentError

ENV_PREFIX = "TRACKRUN_"

DEFAULTS: dict[str, Any] = {
    "dbpath": "",  # empty: the embedded store in home_dir
    "artifact_path": "",  # empty: <embedded store>/artifacts
    "default_project": "default",
    "log_level": "info",
    "httpdb": {"host": "127.0.0.1", "port": 8080, "dirpath": "", "dsn": "", "token": ""},
}

_SECRET_KEYS = {"token", "password", "dsn"}


def home_dir() -> Path:
    """Where the embedded store lives when nothing else is configured (``~/.trackrun``)."""
    return Path(os.environ.get("TRACKRUN_HOME") or Path.home() / ".trackrun")


def _parse(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _merge(base: dict, extra: dict, where: str, path: str = "") -> None:
    for key, value in extra.items():
        if key not in base:
            known = ", ".join(sorted(base))
            raise InvalidArgumentError(f"unknown setting '{path}{key}' in {where}; known settings: {known}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise InvalidArgumentError(f"setting '{path}{key}' in {where} must be a mapping")
            _merge(base[key], value, where, f"{path}{key}.")
        else:
            base[key] = value


def _leaf_paths(node: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in node.items():
        out.extend(_leaf_paths(value, (*prefix, key)) if isinstance(value, dict) else [(*prefix, key)])
    return out


_LEAVES = _leaf_paths(DEFAULTS)
_RAW_KEYS = {"dbpath", "artifact_path", "dsn", "token"}  # kept as text even when they look like JSON
_file_cache: dict[tuple[str, float], dict] = {}


def _file_settings(config_file: str) -> dict:
    """The config file's settings, re-read only when the file changes."""
    import yaml

    try:
        key = (config_file, Path(config_file).stat().st_mtime)
        if key not in _file_cache:
            try:
                data = yaml.safe_load(Path(config_file).read_text()) or {}
            except yaml.YAMLError as exc:
                where = getattr(exc, "problem_mark", None)
                at = f" at line {where.line + 1}" if where is not None else ""
                raise InvalidArgumentError(f"TRACKRUN_CONFIG_FILE {config_file} is not valid YAML{at}; "
                                           "fix it or unset the variable") from None
            if not isinstance(data, dict):
                raise InvalidArgumentError(f"{config_file} must hold a mapping of settings")
            _file_cache[key] = data
        return _file_cache[key]
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read TRACKRUN_CONFIG_FILE {config_file}: {exc.strerror}") from None


def load() -> dict[str, Any]:
    """Return the effective settings as a nested dict."""
    settings = json.loads(json.dumps(DEFAULTS))
    config_file = os.environ.get(ENV_PREFIX + "CONFIG_FILE")
    if config_file:
        _merge(settings, _file_settings(config_file), config_file)
    # Known keys are looked up one by one (cheaper than scanning the whole environment on every access):
    # TRACKRUN_DBPATH, TRACKRUN_httpdb__port (or TRACKRUN_HTTPDB__PORT).
    for path in _LEAVES:
        names = ("__".join(path), "__".join(path).upper(), "__".join((*path[:-1], path[-1].upper())))
        raw = next((os.environ[ENV_PREFIX + n] for n in names if ENV_PREFIX + n in os.environ), None)
        if raw is None:
            continue
        node = settings
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = raw if path[-1] in _RAW_KEYS else _parse(raw)
    return settings


def redacted(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy fit to print: secrets replaced by '***', passwords stripped from URLs."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out[key] = redacted(value)
        elif key in _SECRET_KEYS and value:
            out[key] = redact_url(value) if key == "dsn" else "***"
        elif isinstance(value, str) and "://" in value:
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out


def redact_url(url: str) -> str:
    """Hide the password part of ``scheme://user:password@host``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    creds, host = rest.split("@", 1)
    if ":" not in creds:
        return url  # a user name and no password: nothing to hide
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _env_value(name: str) -> str | None:
    for candidate in (name, name.upper()):
        value = os.environ.get(ENV_PREFIX + candidate)
        if value is not None:
            return value
    return None


class _Config:
    """Attribute access to the current settings (``config.dbpath``, ``config.httpdb['port']``)."""

    def __getattr__(self, name: str) -> Any:
        default = DEFAULTS.get(name)
        if default is None:
            raise AttributeError(name)
        if isinstance(default, dict) or os.environ.get(ENV_PREFIX + "CONFIG_FILE"):
            return load()[name]
        # the common case, on hot paths: one top-level key and no config file
        raw = _env_value(name)
        if raw is None:
            return default
        return raw if name in _RAW_KEYS else _parse(raw)

    def to_dict(self) -> dict[str, Any]:
        return load()


config = _Config()
