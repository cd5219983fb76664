"""Secret sources (file, env, inline). Values live only in memory: records keep the source names."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

from trackrun.errors import InvalidArgumentError

KINDS = ("file", "env", "inline")
# Inline values cannot be stored with the run; a child process gets them through this variable.
INLINE_ENV = "TRACKRUN_INLINE_SECRETS"


def normalize_source(kind: str, source: Any) -> tuple[dict, dict[str, str]]:
    """Validate one source. Returns (what the run record keeps, inline values to hand over in memory)."""
    if kind not in KINDS:
        raise InvalidArgumentError(f"unknown secret source kind '{kind}'; use one of {', '.join(KINDS)}")
    if kind == "file":
        path = Path(str(source)).expanduser()
        if not path.is_file():
            raise InvalidArgumentError(f"secrets file '{source}' does not exist")
        return {"kind": "file", "source": str(path.resolve())}, {}
    if kind == "env":
        names = source if isinstance(source, list | tuple) else str(source).split(",")
        names = [n.strip().lstrip("$") for n in names if n.strip()]
        if not names:
            raise InvalidArgumentError("env secrets need variable names, e.g. env=ACCESS_KEY,TOKEN")
        return {"kind": "env", "source": ",".join(names)}, {}
    values = _inline_values(source)
    return {"kind": "inline", "source": sorted(values)}, values


def _inline_values(source: Any) -> dict[str, str]:
    if isinstance(source, dict):
        return {str(k): str(v) for k, v in source.items()}
    if isinstance(source, str):
        for parse in (json.loads, ast.literal_eval):
            try:
                value = parse(source)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    raise InvalidArgumentError("inline secrets must be a dict, e.g. with_secrets('inline', {'KEY': 'value'})")


def read_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read secrets file '{path}': {exc.strerror}") from None
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise InvalidArgumentError(f"secrets file '{path}': line '{line.split()[0][:20]}...' is not KEY=VALUE")
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


class SecretStore:
    """Resolves secrets from the run's sources plus inline values handed over in memory."""

    def __init__(self, sources: list[dict] | None = None, inline: dict[str, str] | None = None):
        self.values: dict[str, str] = {}
        handed = dict(inline or {})
        if not handed and os.environ.get(INLINE_ENV):
            handed = json.loads(os.environ[INLINE_ENV])
        for src in sources or []:
            kind, source = src.get("kind"), src.get("source")
            if kind == "file":
                self.values.update(read_file(source))
            elif kind == "env":
                for name in str(source).split(","):
                    if name and name in os.environ:
                        self.values[name] = os.environ[name]
            elif kind == "inline":
                self.values.update({k: handed[k] for k in (source or []) if k in handed})

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def mask(self, text: str) -> str:
        """Replace every secret value (4 characters or longer) in text with '***'."""
        for value in sorted(self.values.values(), key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text
