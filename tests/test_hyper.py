"""Tests for trackrun.hyper: parameter expansion, best-iteration selection, stop conditions, tables."""

from __future__ import annotations

import math

import pytest

from trackrun.errors import InvalidArgumentError
from trackrun.hyper import STRATEGIES, StopCondition, generate, iteration_table, parse_selector, select_best

INF = float("inf")
NAN = float("nan")


def reader(files: dict[str, bytes]):
    """A `read` callable serving bytes from a dict, recording what was asked for."""
    calls: list[str] = []

    def read(path: str) -> bytes:
        calls.append(path)
        return files[path]

    read.calls = calls  # type: ignore[attr-defined]
    return read


# --- generate: hyperparams ----------------------------------------------------------------------------


def test_strategies_constant():
    assert STRATEGIES == ("grid", "list", "random")


def test_grid_first_key_varies_fastest():
    out = generate({"p2": [2, 1, 3], "p3": [10, 20]})
    assert [(d["p2"], d["p3"]) for d in out] == [(2, 10), (1, 10), (3, 10), (2, 20), (1, 20), (3, 20)]
    assert all(list(d) == ["p2", "p3"] for d in out)


def test_grid_explicit_and_three_keys():
    out = generate({"a": [1, 2], "b": ["x"], "c": [True, False]}, strategy="grid")
    assert out == [
        {"a": 1, "b": "x", "c": True},
        {"a": 2, "b": "x", "c": True},
        {"a": 1, "b": "x", "c": False},
        {"a": 2, "b": "x", "c": False},
    ]


def test_list_pairs_elements_by_position():
    out = generate({"p1": [1, 2, 3], "p2": ["a", "b", "c"]}, strategy="list")
    assert out == [{"p1": 1, "p2": "a"}, {"p1": 2, "p2": "b"}, {"p1": 3, "p2": "c"}]


def test_list_unequal_lengths_names_them():
    with pytest.raises(InvalidArgumentError, match=r"p1=3, p2=2"):
        generate({"p1": [1, 2, 3], "p2": [4, 5]}, strategy="list")


def test_random_seeded_count_and_values():
    space = {"lr": [0.1, 0.01, 0.001], "depth": [2, 4, 8, 16]}
    out = generate(space, strategy="random", max_iterations=25, seed=7)
    assert len(out) == 25
    assert all(d["lr"] in space["lr"] and d["depth"] in space["depth"] for d in out)
    assert out == generate(space, strategy="random", max_iterations=25, seed=7)
    assert out != generate(space, strategy="random", max_iterations=25, seed=8)
    # 25 draws from 12 combinations must repeat (repetition allowed) and should vary
    assert len({(d["lr"], d["depth"]) for d in out}) > 1


def test_random_defaults_to_ten_draws():
    assert len(generate({"a": [1, 2]}, strategy="random", seed=0)) == 10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "grid", "max_iterations": 5}, "only to strategy 'random'"),
        ({"strategy": "list", "max_iterations": 5}, "only to strategy 'random'"),
        ({"max_iterations": 5}, "only to strategy 'random'"),  # default strategy is grid
        ({"strategy": "random", "max_iterations": 0}, ">= 1"),
        ({"strategy": "random", "max_iterations": -3}, ">= 1"),
        ({"strategy": "random", "max_iterations": 2.5}, ">= 1"),
    ],
)
def test_max_iterations_errors(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        generate({"a": [1, 2]}, **kwargs)


@pytest.mark.parametrize(
    ("hyperparams", "match"),
    [
        ({"p1": 3}, r"'p1' must be a non-empty list of values, got 3"),
        ({"p1": []}, r"'p1' must be a non-empty list"),
        ({"p1": [1], "p2": "abc"}, r"'p2' must be a non-empty list"),
        ({}, "empty"),
    ],
)
def test_bad_hyperparams(hyperparams, match):
    with pytest.raises(InvalidArgumentError, match=match):
        generate(hyperparams)


def test_unknown_strategy_lists_choices():
    with pytest.raises(InvalidArgumentError, match="grid, list, random"):
        generate({"a": [1]}, strategy="bayes")


def test_both_sources_rejected():
    with pytest.raises(InvalidArgumentError, match="not both"):
        generate({"a": [1]}, param_file="p.csv", read=reader({"p.csv": b"a\n1\n"}))


def test_neither_source_rejected():
    with pytest.raises(InvalidArgumentError, match="hyperparams"):
        generate()


# --- generate: param files ----------------------------------------------------------------------------

CSV = (
    b"i,f,nan,inf,ninf,flag,off,lst,dct,name\n"
    b'1,0.5,nan,inf,-inf,true,False,"[1, 2]","{""k"": 3}",adam\n'
    b"-2,1e-3,NaN,Infinity,-inf,TRUE,false,[],{},sgd\n"
)


def _check_csv_rows(out: list[dict]) -> None:
    assert len(out) == 2
    first, second = out
    assert list(first) == ["i", "f", "nan", "inf", "ninf", "flag", "off", "lst", "dct", "name"]
    assert first["i"] == 1 and type(first["i"]) is int
    assert first["f"] == 0.5 and type(first["f"]) is float
    assert math.isnan(first["nan"]) and first["inf"] == INF and first["ninf"] == -INF
    assert first["flag"] is True and first["off"] is False
    assert first["lst"] == [1, 2] and first["dct"] == {"k": 3}
    assert first["name"] == "adam"
    assert second["i"] == -2 and second["f"] == 0.001 and second["flag"] is True
    assert second["lst"] == [] and second["dct"] == {} and second["name"] == "sgd"


def test_csv_via_reader_converts_types_and_defaults_to_list():
    read = reader({"s3://b/params.csv": CSV})
    out = generate(param_file="s3://b/params.csv", read=read)
    assert read.calls == ["s3://b/params.csv"]
    _check_csv_rows(out)


def test_csv_via_local_file(tmp_path):
    path = tmp_path / "params.csv"
    path.write_bytes(CSV)
    _check_csv_rows(generate(param_file=str(path), strategy="list"))


def test_csv_keeps_unparseable_text_as_string():
    out = generate(param_file="p.csv", read=reader({"p.csv": b"a,b\n[not json,yes\n"}))
    assert out == [{"a": "[not json", "b": "yes"}]


def test_csv_utf8_bom_and_blank_trailing_lines():
    out = generate(param_file="p.csv", read=reader({"p.csv": b"\xef\xbb\xbfx\r\n1\r\n2\r\n\r\n"}))
    assert out == [{"x": 1}, {"x": 2}]


def test_csv_malformed_row_names_line():
    data = b"a,b\n1,2\n3\n4,5\n"
    with pytest.raises(InvalidArgumentError, match=r"line 3 has 1 cells but the header has 2"):
        generate(param_file="p.csv", read=reader({"p.csv": data}))


@pytest.mark.parametrize(("data", "match"), [(b"", "is empty"), (b"\n", "is empty"), (b"a,b\n", "no rows")])
def test_csv_empty_or_header_only(data, match):
    with pytest.raises(InvalidArgumentError, match=match):
        generate(param_file="p.csv", read=reader({"p.csv": data}))


@pytest.mark.parametrize("strategy", ["grid", "random"])
def test_csv_rejects_grid_and_random(strategy):
    with pytest.raises(InvalidArgumentError, match="use strategy 'list'"):
        generate(param_file="p.csv", strategy=strategy, read=reader({"p.csv": b"a\n1\n"}))


def test_json_dict_uses_default_grid_or_given_strategy():
    files = {"p.json": b'{"p2": [2, 1, 3], "p3": [10, 20]}'}
    grid = generate(param_file="p.json", read=reader(files))
    assert [(d["p2"], d["p3"]) for d in grid] == [(2, 10), (1, 10), (3, 10), (2, 20), (1, 20), (3, 20)]
    rand = generate(param_file="p.json", strategy="random", max_iterations=4, seed=1, read=reader(files))
    assert len(rand) == 4 and all(d["p2"] in (2, 1, 3) and d["p3"] in (10, 20) for d in rand)


def test_json_list_of_dicts_is_one_iteration_each(tmp_path):
    path = tmp_path / "p.JSON"
    path.write_text('[{"a": 1, "b": "x"}, {"a": 2.5, "b": null}]')
    assert generate(param_file=str(path)) == [{"a": 1, "b": "x"}, {"a": 2.5, "b": None}]


def test_json_list_of_dicts_rejects_grid():
    with pytest.raises(InvalidArgumentError, match="use strategy 'list'"):
        generate(param_file="p.json", strategy="grid", read=reader({"p.json": b'[{"a": 1}]'}))


def test_json_dict_with_bad_values_names_key():
    with pytest.raises(InvalidArgumentError, match="'lr' must be a non-empty list"):
        generate(param_file="p.json", read=reader({"p.json": b'{"lr": 0.1}'}))


def test_bad_json_includes_parser_message_and_file():
    with pytest.raises(InvalidArgumentError, match=r"'conf/p\.json' is not valid JSON: Expecting") as info:
        generate(param_file="conf/p.json", read=reader({"conf/p.json": b'{"a": [1,'}))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("data", [b"3", b'"x"', b"[]", b"[1, 2]"])
def test_json_wrong_shape(data):
    with pytest.raises(InvalidArgumentError, match="p.json"):
        generate(param_file="p.json", read=reader({"p.json": data}))


@pytest.mark.parametrize("name", ["p.yaml", "p.txt", "params", "csv"])
def test_bad_suffix(name):
    with pytest.raises(InvalidArgumentError, match=r"param file must be \.csv or \.json"):
        generate(param_file=name, read=reader({name: b"a\n1\n"}))


def test_missing_local_file(tmp_path):
    with pytest.raises(InvalidArgumentError, match="cannot read param file"):
        generate(param_file=str(tmp_path / "nope.csv"))


# --- selectors and best iteration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("max.accuracy", ("max", "accuracy")),
        ("min.loss", ("min", "loss")),
        ("accuracy", ("max", "accuracy")),
        ("max.val.acc", ("max", "val.acc")),
        ("min.val.loss", ("min", "val.loss")),
        ("val.acc", ("max", "val.acc")),
        ("avg.loss", ("max", "avg.loss")),
        ("min", ("max", "min")),
    ],
)
def test_parse_selector(selector, expected):
    assert parse_selector(selector) == expected


@pytest.mark.parametrize("selector", ["", "   ", "max.", "min."])
def test_parse_selector_errors(selector):
    with pytest.raises(InvalidArgumentError):
        parse_selector(selector)


def _its(*values, key="m", state="completed"):
    """Iterations 1..n with result `key` set to each value (a `...` value leaves the result out)."""
    return [
        {"iteration": i, "state": state, "results": {} if v is ... else {key: v}}
        for i, v in enumerate(values, start=1)
    ]


@pytest.mark.parametrize(
    ("values", "selector", "best"),
    [
        ((-5, -1, -3), "max.m", 2),  # all negative: must not start from a tiny positive float
        ((-5, -1, -3), "min.m", 1),
        ((0, -2, -1), "max.m", 1),  # zero beats negatives
        ((3, 0, 2), "min.m", 2),  # min with zero
        ((0.0, 0.0), "min.m", 1),
        ((1, 7, 7, 2), "max.m", 2),  # tie -> earliest
        ((NAN, 1, 0.5), "max.m", 2),  # NaN skipped
        ((NAN, 1, 0.5), "min.m", 3),
        ((1, INF, 5), "max.m", 2),
        ((1, -INF, 5), "min.m", 2),
        ((-INF,), "max.m", 1),
        ((..., 3, 4), "min.m", 2),  # missing result skipped
        (("9", True, 2), "max.m", 3),  # numeric strings and bools are not numbers
        ((True, 0), "max.m", 2),
        ((NAN, ..., "x"), "max.m", 0),  # nothing valid
        ((), "max.m", 0),
        ((1, 2), "m", 2),  # bare key maximises
    ],
)
def test_select_best(values, selector, best):
    assert select_best(_its(*values), selector) == best


def test_select_best_skips_not_completed():
    its = _its(10, 1, 5)
    its[0]["state"] = "error"
    its[1]["state"] = "running"
    assert select_best(its, "max.m") == 3


def test_select_best_tie_uses_iteration_number_not_position():
    its = [
        {"iteration": 4, "state": "completed", "results": {"m": 1}},
        {"iteration": 2, "state": "completed", "results": {"m": 1}},
        {"iteration": 3, "state": "completed", "results": {"m": 0}},
    ]
    assert select_best(its, "max.m") == 2
    assert select_best(its, "min.m") == 3


def test_select_best_dotted_key_and_none_results():
    its = [
        {"iteration": 1, "state": "completed", "results": None},
        {"iteration": 2, "state": "completed", "results": {"val.acc": 0.7}},
    ]
    assert select_best(its, "max.val.acc") == 2


def test_select_best_bad_selector():
    with pytest.raises(InvalidArgumentError):
        select_best(_its(1), "max.")


# --- stop conditions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "results", "expected"),
    [
        ("accuracy >= 0.9", {"accuracy": 0.95}, True),
        ("accuracy >= 0.9", {"accuracy": 0.5}, False),
        ("0.8 < accuracy <= 1", {"accuracy": 0.9}, True),
        ("0.8 < accuracy <= 1", {"accuracy": 1.5}, False),
        ("0.8 < accuracy <= 1", {"accuracy": 0.8}, False),
        ("accuracy > 0.9 and loss < 0.1", {"accuracy": 0.95, "loss": 0.05}, True),
        ("accuracy > 0.9 and loss < 0.1", {"accuracy": 0.95, "loss": 0.5}, False),
        ("accuracy > 0.9 or loss < 0.1", {"accuracy": 0.5, "loss": 0.05}, True),
        ("not accuracy < 0.5", {"accuracy": 0.7}, True),
        ("(a + b) * 2 - c / 4 == 5", {"a": 1, "b": 2, "c": 4}, True),
        ("a // 2 == 3 and a % 2 == 1", {"a": 7}, True),
        ("a ** 2 == 9 and -a < +a", {"a": 3}, True),
        ("2 ** -1 == 0.5", {}, True),
        ("optimizer == 'adam'", {"optimizer": "adam"}, True),
        ("optimizer != 'adam'", {"optimizer": "adam"}, False),
        ("done == True and extra == None", {"done": True, "extra": None}, True),
        ("loss < 1", {"loss": -INF}, True),
        ("loss < 1", {"loss": NAN}, False),
        ("accuracy", {"accuracy": 0}, False),
    ],
)
def test_stop_condition_values(expression, results, expected):
    assert StopCondition(expression)(results) is expected


@pytest.mark.parametrize(
    ("expression", "results"),
    [
        ("accuracy > 0.9", {}),
        ("accuracy > 0.9", {"loss": 1}),
        ("not missing", {}),
        # a missing name makes the whole condition False, even where `or` could short-circuit
        ("accuracy > 0.9 or loss < 0.1", {"accuracy": 0.95}),
    ],
)
def test_stop_condition_missing_name_is_false(expression, results):
    assert StopCondition(expression)(results) is False


@pytest.mark.parametrize(
    ("expression", "results"),
    [
        ("loss / steps > 1", {"loss": 5, "steps": 0}),  # division by zero
        ("loss // steps > 1", {"loss": 5, "steps": 0}),
        ("loss % steps > 1", {"loss": 5, "steps": 0}),
        ("name * n == 'aaa'", {"name": "a", "n": 3}),  # arithmetic only on numbers
        ("name < 3", {"name": "a"}),  # incomparable types
        ("2 ** n > 1", {"n": 10**6}),  # exponent from results is capped too
        ("x ** n > 0", {"x": 1.0, "n": 101}),  # the cap holds even when the result would be small
        ("(2 ** 100) ** 100 ** 100 > 1", {}),
        ("((2 ** 100) ** 100) ** 100 > 1", {}),  # result too large
        ("x ** 0.5 > 0", {"x": -4}),  # complex result
        ("x ** 100 > 0", {"x": 1e300}),  # float overflow
    ],
)
def test_stop_condition_undefined_is_false(expression, results):
    assert StopCondition(expression)(results) is False


@pytest.mark.parametrize(
    ("expression", "match"),
    [
        ("__import__('os')", "function call"),
        ("__import__('os').system('true')", "not allowed"),
        ("a.b", "attribute"),
        ("x[0]", "subscript"),
        ("(lambda: 1)()", "function call"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehension"),
        ("f'{a}' == 'b'", "f-string"),
        ("(a := 1)", r"assignment expression"),
        ("a if b else c", "conditional"),
        ("a in b", "In"),
        ("a is None", "Is"),
        ("a << 2", "LShift"),
        ("~a", "Invert"),
        ("b'x' == a", "constant"),
        ("[1, 2]", "list"),
        ("2 ** 1000000 > 1", "power 1000000"),
        ("2 ** -101", "power -101"),
        ("accuracy >", "not a valid expression"),
        ("a = 1", "not a valid expression"),
        ("", "non-empty"),
        ("a > 0 and " * 100 + "a > 0", "1000"),
        ("-" * 200 + "a", "nested"),
    ],
)
def test_stop_condition_rejected(expression, match):
    with pytest.raises(InvalidArgumentError, match=match) as info:
        StopCondition(expression)
    assert "\n" not in str(info.value)


def test_stop_condition_never_evaluates_user_code(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be used")

    cond = StopCondition("a + 1 > 2")
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    assert cond({"a": 2}) is True


# --- iteration table ----------------------------------------------------------------------------------


def test_iteration_table_shape_and_order():
    its = [
        {"iteration": 3, "state": "error", "parameters": {"p1": 3, "p3": "z"}, "results": {}},
        {"iteration": 1, "state": "completed", "parameters": {"p1": 1, "p2": "a"}, "results": {"acc": 0.5}},
        {
            "iteration": 2,
            "state": "completed",
            "parameters": {"p2": "b", "p1": 2},
            "results": {"loss": 0.1, "acc": 0.7},
        },
    ]
    assert iteration_table(its) == [
        ["state", "iter", "param.p1", "param.p2", "param.p3", "output.acc", "output.loss"],
        ["completed", 1, 1, "a", None, 0.5, None],
        ["completed", 2, 2, "b", None, 0.7, 0.1],
        ["error", 3, 3, None, "z", None, None],
    ]


def test_iteration_table_empty():
    assert iteration_table([]) == [["state", "iter"]]
