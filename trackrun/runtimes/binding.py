"""Handler argument binding: ``def handler(context, p1=1, infile=None)`` gets the context, parameters by
name (converted by type hint) and inputs as data items; anything not given keeps its Python default."""

from __future__ import annotations

import inspect
import json
from typing import Any

from trackrun.errors import InvalidArgumentError

_CONTEXT_NAMES = ("context", "ctx")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def convert(value: Any, annotation: Any, name: str) -> Any:
    """Convert a parameter value to the handler's type hint (int, float, bool, str, list, dict)."""
    if annotation is inspect.Parameter.empty or value is None:
        return value
    target = annotation if isinstance(annotation, type) else getattr(annotation, "__origin__", None)
    if isinstance(annotation, str):  # postponed annotations: "int", "list[int]"
        target = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict}.get(
            annotation.split("[")[0].strip())
    if target not in (int, float, bool, str, list, dict) or isinstance(value, target) and not (
            target is int and isinstance(value, bool)):
        return value
    try:
        if target is str:
            return value if isinstance(value, str) else json.dumps(value) if isinstance(value, list | dict) \
                else str(value)
        if target is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in _TRUE or lowered in _FALSE:
                    return lowered in _TRUE
                raise ValueError(value)
            if isinstance(value, int | float):
                return bool(value)
            raise ValueError(value)
        if target is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if target is float:
            return float(value)
        parsed = json.loads(value) if isinstance(value, str) else value
        if target is list and isinstance(parsed, tuple | list):
            return list(parsed)
        if isinstance(parsed, target):
            return parsed
        raise ValueError(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"parameter '{name}' = {value!r} cannot be read as {target.__name__}, "
                                   "the type the handler declares") from None


def _wants_path(param: inspect.Parameter) -> bool:
    if param.annotation is str or param.annotation == "str":
        return True
    return param.annotation is inspect.Parameter.empty and isinstance(param.default, str)


def _wants_df(param: inspect.Parameter) -> bool:
    ann = param.annotation
    name = ann if isinstance(ann, str) else getattr(ann, "__name__", "")
    return name in ("DataFrame", "pd.DataFrame", "pandas.DataFrame")


def bind(fn: Any, context: Any) -> tuple[list, dict]:
    """The (args, kwargs) to call ``fn`` with for this run."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return [context], {}
    params = context._run["spec"].get("parameters") or {}
    inputs = context._inputs_urls
    args: list = []
    kwargs: dict = {}
    used: set[str] = set()
    positional = True
    for index, (name, param) in enumerate(signature.parameters.items()):
        if param.kind in (param.VAR_POSITIONAL,):
            positional = False
            continue
        if param.kind == param.VAR_KEYWORD:
            for key, value in params.items():
                if key not in used:
                    kwargs[key] = value
            for key in inputs:
                if key not in used:
                    kwargs[key] = context.get_input(key)
            continue
        if name in _CONTEXT_NAMES or (index == 0 and name not in params and name not in inputs
                                       and param.default is param.empty):
            value: Any = context
        elif name in inputs:
            item = context.get_input(name)
            value = item.local() if _wants_path(param) else item.as_df() if _wants_df(param) else item
        elif name in params:
            value = convert(params[name], param.annotation, name)
        elif param.default is not param.empty:
            positional = False
            continue
        else:
            raise InvalidArgumentError(f"handler {getattr(fn, '__name__', fn)} needs parameter '{name}': "
                                       f"pass it with params={{'{name}': ...}} or -p {name}=...")
        used.add(name)
        if positional and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            args.append(value)
        else:
            kwargs[name] = value
    return args, kwargs
