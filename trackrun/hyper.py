"""Hyper-parameter runs: expand parameter spaces, pick the best iteration, decide when to stop early.

Everything here is a pure function of its arguments. The only I/O is reading a parameter file, and that
goes through a ``read`` callable the caller supplies (a local read is the fallback), so the same code
serves the CLI, the service and tests. Stop conditions are user text evaluated by a small ``ast``-based
interpreter that only knows arithmetic, comparisons and boolean logic; user code is never executed.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import math
import numbers
import random
from collections.abc import Callable, Mapping
from typing import Any

from trackrun.errors import InvalidArgumentError

STRATEGIES = ("grid", "list", "random")

DEFAULT_RANDOM_ITERATIONS = 10
MAX_EXPRESSION_LENGTH = 1000
MAX_EXPONENT = 100
# A power whose integer result would exceed this many bits is treated as undefined, so that nested
# powers such as (2 ** 100) ** 100 ** ... cannot allocate unbounded memory.
_MAX_POWER_BITS = 10_000
# Nested expressions deeper than this are rejected up front; the evaluator is recursive.
_MAX_DEPTH = 100


# ---------------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------------


def generate(
    hyperparams: dict | None = None,
    strategy: str | None = None,
    param_file: str | None = None,
    max_iterations: int | None = None,
    read: Callable[[str], bytes] | None = None,
    seed: int | None = None,
) -> list[dict]:
    """Expand into the parameter combinations, one dict per iteration, in iteration order (iteration = index+1).

    Exactly one of ``hyperparams`` (name -> non-empty list of values) or ``param_file`` (a ``.csv`` or
    ``.json`` path, read through ``read``) must be given. ``strategy`` is one of :data:`STRATEGIES`; when
    None it is ``"list"`` for a CSV file and ``"grid"`` otherwise. ``max_iterations`` (default 10) and
    ``seed`` apply to the ``"random"`` strategy. Raises :class:`InvalidArgumentError` on bad input.
    """
    if hyperparams is not None and param_file is not None:
        raise InvalidArgumentError("give either hyperparams or param_file, not both")
    if hyperparams is None and param_file is None:
        raise InvalidArgumentError(
            "give hyperparams (name -> list of values) or a param_file (.csv or .json)"
        )
    if strategy is not None and strategy not in STRATEGIES:
        raise InvalidArgumentError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")

    rows: list[dict] | None = None  # set when the source already lists one dict per iteration
    if param_file is not None:
        suffix = _suffix(param_file)
        if suffix not in (".csv", ".json"):
            raise InvalidArgumentError(f"param file must be .csv or .json, got {param_file!r}")
        text = _read_text(param_file, read)
        if suffix == ".csv":
            if strategy in ("grid", "random"):
                raise InvalidArgumentError(
                    f"a .csv param file lists its iterations row by row; use strategy 'list', not {strategy!r}"
                )
            strategy = "list"
            rows = _parse_csv(text, param_file)
        else:
            loaded = _parse_json(text, param_file)
            if isinstance(loaded, list):
                if strategy not in (None, "list"):
                    raise InvalidArgumentError(
                        f"a JSON list of dicts in {param_file!r} lists its iterations one by one; "
                        f"use strategy 'list', not {strategy!r}"
                    )
                strategy = "list"
                rows = loaded
            else:
                hyperparams = loaded

    strategy = strategy or "grid"
    if max_iterations is not None:
        if strategy != "random":
            raise InvalidArgumentError(
                f"max_iterations applies only to strategy 'random' (strategy is {strategy!r}); "
                "drop it or set strategy='random'"
            )
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
            raise InvalidArgumentError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")

    if rows is not None:
        return [dict(row) for row in rows]

    assert hyperparams is not None  # one of the two sources is set, checked above
    space = _check_hyperparams(hyperparams)
    if strategy == "grid":
        return _grid(space)
    if strategy == "list":
        return _list(space)
    return _random(space, max_iterations or DEFAULT_RANDOM_ITERATIONS, seed)


def _check_hyperparams(hyperparams: Any) -> dict[str, list]:
    if not isinstance(hyperparams, Mapping):
        raise InvalidArgumentError(
            f"hyperparams must be a dict of name -> list of values, got {type(hyperparams).__name__}"
        )
    if not hyperparams:
        raise InvalidArgumentError("hyperparams is empty; name at least one parameter with a list of values")
    for key, values in hyperparams.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"hyper-parameter names must be non-empty strings, got {key!r}")
        if not isinstance(values, list) or not values:
            raise InvalidArgumentError(
                f"hyper-parameter {key!r} must be a non-empty list of values, got {values!r}"
            )
    return dict(hyperparams)


def _grid(space: dict[str, list]) -> list[dict]:
    keys = list(space)
    # itertools.product varies its LAST argument fastest; feeding the keys reversed makes the first
    # key vary fastest, which is the documented iteration order.
    combos = itertools.product(*(space[k] for k in reversed(keys)))
    return [dict(zip(keys, reversed(combo), strict=True)) for combo in combos]


def _list(space: dict[str, list]) -> list[dict]:
    lengths = {key: len(values) for key, values in space.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{key}={n}" for key, n in lengths.items())
        raise InvalidArgumentError(
            f"strategy 'list' needs lists of equal length, got {shown}; make them equal or use strategy 'grid'"
        )
    keys = list(space)
    return [dict(zip(keys, values, strict=True)) for values in zip(*space.values(), strict=True)]


def _random(space: dict[str, list], count: int, seed: int | None) -> list[dict]:
    rng = random.Random(seed)
    return [{key: rng.choice(values) for key, values in space.items()} for _ in range(count)]


def _suffix(path: str) -> str:
    # Works for local paths and URLs alike (no query strings are expected in param file names).
    name = str(path).rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _read_text(param_file: str, read: Callable[[str], bytes] | None) -> str:
    if read is None:
        try:
            with open(param_file, "rb") as f:
                data: Any = f.read()
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot read param file {param_file!r}: {exc.strerror or exc}; check the path"
            ) from exc
    else:
        data = read(param_file)
    if isinstance(data, str):
        return data
    if not isinstance(data, bytes | bytearray):
        raise InvalidArgumentError(
            f"reading param file {param_file!r} returned {type(data).__name__}; the reader must return bytes"
        )
    try:
        return bytes(data).decode("utf-8-sig")  # -sig: tolerate the BOM spreadsheet tools write
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"param file {param_file!r} is not UTF-8 text ({exc}); save it as UTF-8"
        ) from exc


def _parse_csv(text: str, param_file: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[dict] = []
    try:
        for cells in reader:
            if not cells:  # blank line, e.g. a trailing newline
                continue
            if header is None:
                header = [name.strip() for name in cells]
                _check_header(header, param_file)
                continue
            if len(cells) != len(header):
                raise InvalidArgumentError(
                    f"param file {param_file!r} line {reader.line_num} has {len(cells)} cells but the header "
                    f"has {len(header)}; give every row one value per column"
                )
            rows.append({name: _convert_cell(cell) for name, cell in zip(header, cells, strict=True)})
    except csv.Error as exc:
        raise InvalidArgumentError(
            f"param file {param_file!r} is not valid CSV at line {reader.line_num}: {exc}"
        ) from exc
    if header is None:
        raise InvalidArgumentError(
            f"param file {param_file!r} is empty; write a header row of parameter names and one row per iteration"
        )
    if not rows:
        raise InvalidArgumentError(
            f"param file {param_file!r} has a header but no rows; add one row of values per iteration"
        )
    return rows


def _check_header(header: list[str], param_file: str) -> None:
    if any(not name for name in header):
        raise InvalidArgumentError(f"param file {param_file!r} has an empty column name; name every column")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InvalidArgumentError(
            f"param file {param_file!r} repeats column(s) {', '.join(duplicates)}; give each column a unique name"
        )


def _convert_cell(cell: str) -> Any:
    """Turn a CSV cell into int, float, bool, a JSON list/dict, or leave it a string."""
    text = cell.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)  # also accepts "nan", "inf", "-inf"
    except ValueError:
        pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if text[:1] in ("[", "{"):
        try:
            value = json.loads(text)
        except ValueError:
            return cell
        if isinstance(value, list | dict):
            return value
    return cell


def _parse_json(text: str, param_file: str) -> dict | list[dict]:
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(f"param file {param_file!r} is not valid JSON: {exc}") from exc
    if isinstance(loaded, dict):
        return loaded
    if isinstance(loaded, list):
        if not loaded:
            raise InvalidArgumentError(
                f"param file {param_file!r} holds an empty list; give one dict of parameters per iteration"
            )
        for index, item in enumerate(loaded):
            if not isinstance(item, dict) or not item:
                raise InvalidArgumentError(
                    f"param file {param_file!r} item {index} must be a non-empty dict of parameters, got {item!r}"
                )
        return loaded
    raise InvalidArgumentError(
        f"param file {param_file!r} must hold a dict of name -> list of values or a list of dicts, "
        f"got {type(loaded).__name__}"
    )


# ---------------------------------------------------------------------------------------------------
# best iteration
# ---------------------------------------------------------------------------------------------------


def parse_selector(selector: str) -> tuple[str, str]:
    """Split a selector into (op, result key): 'max.accuracy' -> ('max', 'accuracy'), 'min.loss' ->
    ('min', 'loss'), 'accuracy' -> ('max', 'accuracy'), 'max.val.acc' -> ('max', 'val.acc').

    Only the prefixes 'min.' and 'max.' are ops; any other text is the whole key, maximised.
    """
    if not isinstance(selector, str) or not selector.strip():
        raise InvalidArgumentError(
            f"selector must be a result name, optionally prefixed 'min.' or 'max.', got {selector!r}"
        )
    text = selector.strip()
    op, key = "max", text
    for prefix in ("min.", "max."):
        if text.startswith(prefix):
            op, key = prefix[:-1], text[len(prefix) :]
            break
    if not key:
        raise InvalidArgumentError(f"selector {selector!r} names no result; write e.g. '{op}.accuracy'")
    return op, key


def select_best(iterations: list[dict], selector: str) -> int:
    """Each item: {"iteration": int, "state": str, "results": dict}. Return the best iteration number, 0 if none.

    Only completed iterations whose result is a real number (not bool, not a numeric string, not NaN) take
    part; +/-inf are valid. A tie goes to the lowest iteration number.
    """
    op, key = parse_selector(selector)
    candidates: list[tuple[int, float]] = []
    for item in iterations:
        number = item.get("iteration")
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidArgumentError(f"each iteration needs an integer 'iteration' number, got {number!r}")
        if item.get("state") != "completed":
            continue
        value = (item.get("results") or {}).get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            continue
        candidates.append((number, value))

    best_number, best_value = 0, None
    # Sorted by iteration number and compared strictly, so the earliest of equal values wins.
    for number, value in sorted(candidates, key=lambda c: c[0]):
        if best_value is None or (value > best_value if op == "max" else value < best_value):
            best_number, best_value = number, value
    return best_number


# ---------------------------------------------------------------------------------------------------
# stop condition
# ---------------------------------------------------------------------------------------------------

_BIN_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: _power(a, b),
}
_COMPARE_OPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_UNARY_OPS: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: lambda a: +a,
    ast.USub: lambda a: -a,
    ast.Not: lambda a: not a,
}


class _Undefined(Exception):
    """The expression has no value for these results (missing name, 1/0, overflow, wrong types)."""


def _is_number(value: Any) -> bool:
    # bool is an int subclass and harmless in arithmetic; anything else (str, list...) is refused so that
    # e.g. "x" * 10**9 cannot allocate memory.
    return isinstance(value, numbers.Real)


def _power(base: Any, exponent: Any) -> Any:
    if abs(exponent) > MAX_EXPONENT:
        raise _Undefined
    int_power = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if int_power and abs(base).bit_length() * exponent > _MAX_POWER_BITS:
        raise _Undefined
    result = base**exponent
    if isinstance(result, complex):  # negative base, fractional exponent: no real value
        raise _Undefined
    return result


class StopCondition:
    """A boolean expression over an iteration's results, e.g. ``"accuracy >= 0.9 and loss < 0.1"``.

    Allowed: comparisons (chained too), ``and``/``or``/``not``, ``+ - * / // % **``, unary ``+``/``-``,
    number/string/bool/None constants and result names. The expression is parsed and checked once, at
    construction; calling the object evaluates it against a results dict and returns a bool.
    """

    def __init__(self, expression: str):
        """Parse and validate ``expression``; raise :class:`InvalidArgumentError` if it is not allowed."""
        if not isinstance(expression, str) or not expression.strip():
            raise InvalidArgumentError(
                f"stop condition must be a non-empty expression such as 'accuracy >= 0.9', got {expression!r}"
            )
        if len(expression) > MAX_EXPRESSION_LENGTH:
            raise InvalidArgumentError(
                f"stop condition is {len(expression)} characters long; keep it within {MAX_EXPRESSION_LENGTH}"
            )
        self.expression = expression
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except SyntaxError as exc:
            raise InvalidArgumentError(
                f"stop condition {expression!r} is not a valid expression: {exc.msg} (column {exc.offset})"
            ) from exc
        except ValueError as exc:  # e.g. a null byte, on Python versions that do not raise SyntaxError
            raise InvalidArgumentError(
                f"stop condition {expression!r} is not a valid expression: {exc}"
            ) from exc
        except (RecursionError, MemoryError) as exc:
            raise InvalidArgumentError(f"stop condition {expression!r} is too complex; simplify it") from exc
        self._names: set[str] = set()
        self._check(tree.body, 1)
        self._tree = tree.body

    def __repr__(self) -> str:
        return f"StopCondition({self.expression!r})"

    def _reject(self, what: str) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"stop condition {self.expression!r} uses {what}, which is not allowed; "
            "use only result names, constants, arithmetic, comparisons and and/or/not"
        )

    def _check(self, node: ast.AST, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise InvalidArgumentError(
                f"stop condition {self.expression!r} is nested more than {_MAX_DEPTH} levels deep; simplify it"
            )
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | None):  # bool is an int
                raise self._reject(f"the constant {node.value!r}")
        elif isinstance(node, ast.Name):
            self._names.add(node.id)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY_OPS:
                raise self._reject(f"the operator {type(node.op).__name__}")
            self._check(node.operand, depth + 1)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BIN_OPS:
                raise self._reject(f"the operator {type(node.op).__name__}")
            if isinstance(node.op, ast.Pow):
                exponent = _constant_number(node.right)
                if exponent is not None and abs(exponent) > MAX_EXPONENT:
                    raise InvalidArgumentError(
                        f"stop condition {self.expression!r} raises to the power {exponent}; "
                        f"keep exponents within +/-{MAX_EXPONENT}"
                    )
            self._check(node.left, depth + 1)
            self._check(node.right, depth + 1)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE_OPS:
                    raise self._reject(f"the comparison {type(op).__name__}")
            for operand in (node.left, *node.comparators):
                self._check(operand, depth + 1)
        else:
            raise self._reject(_describe(node))

    def __call__(self, results: dict) -> bool:
        """True when the condition holds for ``results``; False if a named result is missing or the
        expression has no value (division by zero, overflow, mismatched types)."""
        results = results or {}
        # A name not logged yet means the condition cannot be judged, whatever the rest says.
        if any(name not in results for name in self._names):
            return False
        try:
            return bool(self._eval(self._tree, results))
        except (_Undefined, ArithmeticError, TypeError, ValueError):
            return False

    def _eval(self, node: ast.AST, results: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return results[node.id]
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            value: Any = None
            for operand in node.values:
                value = self._eval(operand, results)
                if bool(value) != is_and:  # short-circuit like Python: and stops on false, or on true
                    return value
            return value
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, results)
            if not isinstance(node.op, ast.Not) and not _is_number(operand):
                raise _Undefined
            return _UNARY_OPS[type(node.op)](operand)
        if isinstance(node, ast.BinOp):
            left = self._eval(node.left, results)
            right = self._eval(node.right, results)
            if not (_is_number(left) and _is_number(right)):
                raise _Undefined
            return _BIN_OPS[type(node.op)](left, right)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, results)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comparator, results)
                if not _COMPARE_OPS[type(op)](left, right):
                    return False
                left = right
            return True
        raise _Undefined  # unreachable: _check admitted only the node types above


def _constant_number(node: ast.AST) -> float | None:
    """The value of a literal number, possibly signed, else None (decided only at evaluation)."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return sign * node.value
    return None


_NODE_NAMES = {
    ast.Call: "a function call",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.IfExp: "a conditional expression (x if c else y)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "unpacking (*)",
    ast.Slice: "a slice",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
}


def _describe(node: ast.AST) -> str:
    return _NODE_NAMES.get(type(node), f"the construct {type(node).__name__}")


# ---------------------------------------------------------------------------------------------------
# table
# ---------------------------------------------------------------------------------------------------


def iteration_table(iterations: list[dict]) -> list[list]:
    """Each item: {"iteration", "state", "parameters": dict, "results": dict}. Return [header] + rows sorted by
    iteration.

    header = ["state", "iter", "param.<p>"..., "output.<r>"...]; param and output columns are in first-seen
    order across the iterations (taken in iteration order); a missing value is None.
    """
    ordered = sorted(iterations, key=lambda item: item["iteration"])
    params: dict[str, None] = {}  # dicts as ordered sets
    outputs: dict[str, None] = {}
    for item in ordered:
        params.update(dict.fromkeys(item.get("parameters") or {}))
        outputs.update(dict.fromkeys(item.get("results") or {}))
    header = ["state", "iter", *(f"param.{p}" for p in params), *(f"output.{r}" for r in outputs)]
    table: list[list] = [header]
    for item in ordered:
        parameters = item.get("parameters") or {}
        results = item.get("results") or {}
        table.append(
            [
                item.get("state"),
                item["iteration"],
                *(parameters.get(p) for p in params),
                *(results.get(r) for r in outputs),
            ]
        )
    return table
