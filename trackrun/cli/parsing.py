"""Reading ``key=value`` command-line values. Each failure is an `InvalidArgumentError` naming the option
and showing a correct example, so the user sees one line that says what to type instead."""

from __future__ import annotations

import json
import re
from typing import Any

from trackrun.errors import InvalidArgumentError

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_value(text: str) -> Any:
    """A parameter value: JSON first (``5``, ``[1,2]``, ``{"a":1}``, ``"s"``), then a number (``+5``,
    ``05``), then true/false in any case, else the text itself. Handler type hints convert it later."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else number
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def split_pair(option: str, text: str, example: str) -> tuple[str, str]:
    """``key=value`` -> (key, value); the key must be non-empty."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidArgumentError(f"{option} '{text}' is not key=value; write e.g. {option} {example}")
    return key.strip(), value


def parse_params(values: tuple[str, ...]) -> dict[str, Any]:
    params = {}
    for text in values:
        key, value = split_pair("-p", text, "p1=5")
        params[key] = parse_value(value)
    return params


def parse_hyperparams(values: tuple[str, ...]) -> dict[str, list]:
    hyper = {}
    for text in values:
        key, value = split_pair("-x", text, "p1='[3,7,5]'")
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not parsed:
            raise InvalidArgumentError(f"-x {key}: '{value}' is not a non-empty JSON list; "
                                       f"write e.g. -x {key}='[3,7,5]'")
        hyper[key] = parsed
    return hyper


def parse_strings(option: str, values: tuple[str, ...], example: str) -> dict[str, str]:
    """Repeated ``key=value`` options (inputs, labels) as a dict of strings."""
    out = {}
    for text in values:
        key, value = split_pair(option, text, example)
        out[key] = value
    return out


def parse_secrets(values: tuple[str, ...]) -> list[dict]:
    """``-s file=secrets.txt`` / ``-s env=A,B`` / ``-s inline={"K":"v"}`` -> secret source dicts."""
    sources = []
    for text in values:
        kind, sep, source = text.partition("=")
        if not sep or not kind.strip() or not source.strip():
            raise InvalidArgumentError(f"-s '{text}' is not kind=source; write e.g. -s file=secrets.txt "
                                       "or -s env=ACCESS_KEY,TOKEN")
        sources.append({"kind": kind.strip(), "source": source.strip()})
    return sources


def label_filters(values: tuple[str, ...]) -> list[str]:
    """``--label`` filters as the store takes them (``k=v``, ``k!=v``, ``k~=v``, ``k``), checked now."""
    from trackrun.schemas.run import label_conditions

    filters = [v.strip() for v in values if v.strip()]
    label_conditions(filters)
    return filters
