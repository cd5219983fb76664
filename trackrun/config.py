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

# Process-level variables that share the prefix but are not settings.
_NOT_SETTINGS = {"CONFIG_FILE", "EXEC_CONFIG", "API_TOKEN", "RUN_UID", "HOME"}
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


def load() -> dict[str, Any]:
    """Return the effective settings as a nested dict."""
    settings = json.loads(json.dumps(DEFAULTS))
    config_file = os.environ.get(ENV_PREFIX + "CONFIG_FILE")
    if config_file:
        import yaml

        try:
            data = yaml.safe_load(Path(config_file).read_text()) or {}
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read TRACKRUN_CONFIG_FILE {config_file}: {exc.strerror}") from None
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"{config_file} must hold a mapping of settings")
        _merge(settings, data, config_file)
    for name, raw in os.environ.items():
        if not name.startswith(ENV_PREFIX) or name[len(ENV_PREFIX) :] in _NOT_SETTINGS:
            continue
        parts = name[len(ENV_PREFIX) :].split("__")
        parts = [parts[0].lower()] + [p.lower() for p in parts[1:]]
        node = settings
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node.get(part), dict) else None
            if node is None:
                break
        if node is not None and parts[-1] in node and not isinstance(node[parts[-1]], dict):
            node[parts[-1]] = raw if parts[-1] in ("dbpath", "artifact_path", "dsn", "token") else _parse(raw)
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
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class _Config:
    """Attribute access to the current settings (``config.dbpath``, ``config.httpdb['port']``)."""

    def __getattr__(self, name: str) -> Any:
        settings = load()
        if name not in settings:
            raise AttributeError(name)
        return settings[name]

    def to_dict(self) -> dict[str, Any]:
        return load()


config = _Config()
