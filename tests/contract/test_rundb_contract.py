"""The RunDB contract (`trackrun/db/base.py`), one suite run over every store kind.

A store kind is one entry of `STORE_FACTORIES`: a function taking the pytest request and returning an empty
store for the test. Adding a kind (e.g. "http") is adding its factory function there.
PostgreSQL uses the server at 127.0.0.1:5432 (user postgres, trust auth; TRACKRUN_TEST_PG overrides), with
one fresh database per test module, emptied before each test and dropped at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.pg import fresh_database
from trackrun.db.base import RunDB
from trackrun.errors import InvalidArgumentError, NotFoundError

T0 = datetime(2024, 1, 1, tzinfo=UTC)


# -- store factories ------------------------------------------------------------------------------
def _sqlite_store(request: pytest.FixtureRequest) -> RunDB:
    from trackrun.db.sql.store import SQLStore

    tmp = request.getfixturevalue("tmp_path")
    store = SQLStore(f"sqlite:///{tmp / 'contract.db'}", artifact_root=str(tmp / "artifacts"))
    request.addfinalizer(store.close)
    return store


@pytest.fixture(scope="module")
def _pg_store() -> Iterator[RunDB]:
    """A SQLStore on a new PostgreSQL database, dropped when the module's tests are done."""
    from trackrun.db.sql.store import SQLStore

    with fresh_database("trackrun_test") as url:
        store = SQLStore(url)
        try:
            yield store
        finally:
            store.close()


def _postgresql_store(request: pytest.FixtureRequest) -> RunDB:
    from trackrun.db.sql import tables

    store = request.getfixturevalue("_pg_store")
    with store.engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    store._known_projects.clear()
    return store


STORE_FACTORIES: dict[str, Callable[[pytest.FixtureRequest], RunDB]] = {
    "sqlite": _sqlite_store,
    "postgresql": _postgresql_store,
}


@pytest.fixture(params=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest) -> RunDB:
    return STORE_FACTORIES[request.param](request)


# -- helpers --------------------------------------------------------------------------------------
def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def _run(uid: str, name: str = "train", project: str = "default", iteration: int = 0, labels: dict | None = None,
         state: str = "completed", start: float = 0, results: dict | None = None,
         parameters: dict | None = None) -> dict:
    return {
        "kind": "run",
        "metadata": {"name": name, "uid": uid, "iteration": iteration, "project": project,
                     "labels": dict(labels or {}), "annotations": {}},
        "spec": {"parameters": dict(parameters or {}), "handler": "h", "inputs": {}},
        "status": {"state": state, "start_time": _at(start), "results": dict(results or {}), "artifacts": []},
    }


def _put(store: RunDB, uid: str, project: str = "default", iteration: int = 0, **kw) -> dict:
    struct = _run(uid, project=project, iteration=iteration, **kw)
    store.store_run(struct, uid, project, iteration)
    return struct


def _uids(runs: list[dict]) -> list[str]:
    return [r["metadata"]["uid"] for r in runs]


def _art(key: str, minute: float, kind: str = "artifact", labels: dict | None = None, **extra) -> dict:
    return {"kind": kind, "key": key, "hash": f"h{minute}", "size": 3, "target_path": f"/a/{key}/{minute}",
            "labels": dict(labels or {}), "updated": _at(minute), **extra}


# -- runs -----------------------------------------------------------------------------------------
def test_store_and_read_run_returns_the_dict_unchanged(store):
    struct = _put(store, "u1", labels={"owner": "ann"}, results={"acc": 0.5, "nested": {"a": [1, 2]}},
                  parameters={"lr": 0.1, "name": "x"})
    assert store.read_run("u1") == struct
    assert store.read_run("u1", "default", 0) == struct


def test_store_run_replaces_the_whole_record_and_its_index(store):
    _put(store, "u1", labels={"a": "1"}, results={"acc": 1})
    _put(store, "u1", labels={"b": "2"}, results={"loss": 3}, state="error")
    back = store.read_run("u1")
    assert back["metadata"]["labels"] == {"b": "2"}
    assert back["status"]["results"] == {"loss": 3}
    assert _uids(store.list_runs(labels="a")) == []
    assert _uids(store.list_runs(labels="b=2", state="error")) == ["u1"]
    assert len(store.list_runs(iter=True)) == 1


def _second_client(store: RunDB) -> RunDB:
    """Another client of the same database, as another process would open it."""
    other = type(store)(store.url)
    return other


def test_store_run_index_follows_the_record_across_clients(store):
    other = _second_client(store)
    try:
        _put(store, "u1", labels={"a": "1"}, results={"acc": 1})
        _put(other, "u1", labels={"b": "2"}, results={"acc": 5})
        _put(store, "u1", labels={"a": "1"}, results={"acc": 1})  # the first client's record again
        assert store.read_run("u1")["metadata"]["labels"] == {"a": "1"}
        assert _uids(store.list_runs(labels="a=1")) == ["u1"]
        assert _uids(other.list_runs(labels="b")) == []
        _put(store, "u2", results={"acc": 3})
        assert _uids(other.list_runs(sort_by="results.acc")) == ["u1", "u2"]
        other.update_run({"metadata.labels.c": "3"}, "u1")
        _put(store, "u1", labels={"a": "1"}, results={"acc": 1})
        assert _uids(store.list_runs(labels="c")) == []
    finally:
        other.close()


def test_update_run_applies_dotted_keys(store):
    _put(store, "u1", labels={"a": "1"}, results={"acc": 0.1})
    store.update_run({"status.state": "error", "metadata.labels.x": "yes", "status.results.acc": 0.9,
                      "status.extra.deep.value": 7}, "u1")
    back = store.read_run("u1")
    assert back["status"]["state"] == "error"
    assert back["metadata"]["labels"] == {"a": "1", "x": "yes"}
    assert back["status"]["results"] == {"acc": 0.9}
    assert back["status"]["extra"] == {"deep": {"value": 7}}
    # the indexes follow the update
    assert _uids(store.list_runs(labels="x=yes", state="error")) == ["u1"]
    _put(store, "u2", results={"acc": 0.5})
    assert _uids(store.list_runs(sort_by="-results.acc")) == ["u1", "u2"]


def test_missing_runs_raise_not_found(store):
    _put(store, "u1")
    with pytest.raises(NotFoundError):
        store.read_run("nope")
    with pytest.raises(NotFoundError):
        store.read_run("u1", iter=3)
    with pytest.raises(NotFoundError):
        store.read_run("u1", project="other")
    with pytest.raises(NotFoundError):
        store.update_run({"status.state": "error"}, "nope")
    with pytest.raises(NotFoundError):
        store.del_run("nope")
    assert store.read_run("u1")["status"]["state"] == "completed"


NUMBERS = {"nan": math.nan, "pinf": math.inf, "ninf": -math.inf, "big": 2**64 + 1, "bigger": 10**40,
           "huge": 10**400, "neg_big": -(2**63) - 7, "sum": 0.1 + 0.2, "tiny": 1e-300, "denormal": 5e-324,
           "neg_zero": -0.0, "max": 1.7976931348623157e308}


def _same(a, b) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a)
    return type(a) is type(b) and a == b and (not isinstance(b, float) or math.copysign(1, a) == math.copysign(1, b))


def test_numbers_round_trip_exactly_through_results_and_parameters(store):
    _put(store, "u1", results=NUMBERS, parameters=NUMBERS)
    for back in (store.read_run("u1"), store.list_runs(uid="u1")[0]):
        for field in (back["status"]["results"], back["spec"]["parameters"]):
            for key, value in NUMBERS.items():
                assert _same(field[key], value), (key, field[key], value)


def test_sort_by_results_orders_infinities_and_skips_nan(store):
    for uid, value in (("a", 1.0), ("b", math.inf), ("c", -math.inf), ("d", math.nan), ("e", 10**400)):
        _put(store, uid, results={"x": value})
    ascending = _uids(store.list_runs(sort_by="results.x"))
    assert ascending[:2] == ["c", "a"]
    assert set(ascending[2:4]) == {"b", "e"}  # 10**400 sorts as +inf
    assert ascending[4] == "d"  # NaN is not a sortable number: it goes with the runs missing the key
    descending = _uids(store.list_runs(sort_by="-results.x"))
    assert set(descending[:2]) == {"b", "e"}
    assert descending[2:] == ["a", "c", "d"]


# -- list_runs filters ----------------------------------------------------------------------------
def test_list_runs_by_name_exact_and_substring(store):
    for uid, name in (("u1", "train"), ("u2", "train-2"), ("u3", "PreTrain"), ("u4", "eval"), ("u5", "a_b"),
                      ("u6", "axb"), ("u7", "100%")):
        _put(store, uid, name=name)
    assert _uids(store.list_runs(name="train")) == ["u1"]
    assert sorted(_uids(store.list_runs(name="~train"))) == ["u1", "u2", "u3"]
    assert sorted(_uids(store.list_runs(name="~TRAIN"))) == ["u1", "u2", "u3"]
    assert _uids(store.list_runs(name="~a_b")) == ["u5"]  # '_' is a literal, not a wildcard
    assert _uids(store.list_runs(name="~0%")) == ["u7"]
    assert _uids(store.list_runs(name="nothing")) == []


def test_list_runs_by_uid_and_project(store):
    _put(store, "u1")
    _put(store, "u2")
    _put(store, "u3", project="other")
    assert _uids(store.list_runs(uid="u2")) == ["u2"]
    assert sorted(_uids(store.list_runs(uid=["u1", "u3", "zz"]))) == ["u1"]
    assert sorted(_uids(store.list_runs())) == ["u1", "u2"]  # the default project
    assert _uids(store.list_runs(project="other")) == ["u3"]
    assert sorted(_uids(store.list_runs(project="*"))) == ["u1", "u2", "u3"]
    assert sorted(_uids(store.list_runs(uid=["u1", "u3"], project="*"))) == ["u1", "u3"]


@pytest.mark.parametrize("labels, expected", [
    ("a=1", ["u1"]),
    (["a=1"], ["u1"]),
    ({"a": "1"}, ["u1"]),
    ({"a": 1}, ["u1"]),
    ("a!=1", ["u2", "u3"]),
    ("a~=1", ["u1", "u2"]),
    ("a~=X", ["u2"]),
    ("b", ["u1"]),
    ("a", ["u1", "u2"]),
    (["a=1", "b=x"], ["u1"]),
    ("a=1,b", ["u1"]),
    ({"a": "1", "b": "y"}, []),
    ("c", []),
])
def test_list_runs_by_labels(store, labels, expected):
    _put(store, "u1", labels={"a": "1", "b": "x"})
    _put(store, "u2", labels={"a": "x1"})
    _put(store, "u3")
    assert sorted(_uids(store.list_runs(labels=labels))) == expected
    assert store.count_runs(labels=labels) == len(expected)


def test_list_runs_by_state_and_iterations(store):
    _put(store, "p", state="completed")
    _put(store, "p", iteration=1, state="completed")
    _put(store, "p", iteration=2, state="error")
    _put(store, "s", state="error")
    assert _uids(store.list_runs(state="error")) == ["s"]
    assert sorted(_uids(store.list_runs(state="error", iter=True))) == ["p", "s"]
    assert len(store.list_runs()) == 2
    everything = store.list_runs(iter=True)
    assert sorted((r["metadata"]["uid"], r["metadata"]["iteration"]) for r in everything) == [
        ("p", 0), ("p", 1), ("p", 2), ("s", 0)]
    assert store.count_runs(iter=True) == 4
    assert store.count_runs() == 2


def test_list_runs_by_start_time_range_inclusive(store):
    for uid, minute in (("a", 0), ("b", 10), ("c", 20), ("d", 30)):
        _put(store, uid, start=minute)
    assert sorted(_uids(store.list_runs(start_time_from=T0 + timedelta(minutes=10),
                                        start_time_to=T0 + timedelta(minutes=20)))) == ["b", "c"]
    assert sorted(_uids(store.list_runs(start_time_from=_at(15)))) == ["c", "d"]
    assert sorted(_uids(store.list_runs(start_time_to=_at(10)))) == ["a", "b"]
    assert store.count_runs(start_time_from=_at(5), start_time_to=_at(25)) == 2


def test_list_runs_newest_first_with_last_and_offset(store):
    for uid, minute in (("a", 5), ("b", 1), ("c", 9), ("d", 3)):
        _put(store, uid, start=minute)
    assert _uids(store.list_runs()) == ["c", "a", "d", "b"]
    assert _uids(store.list_runs(last=2)) == ["c", "a"]
    assert _uids(store.list_runs(last=2, offset=1)) == ["a", "d"]
    assert _uids(store.list_runs(offset=3)) == ["b"]
    assert _uids(store.list_runs(sort_by="start_time")) == ["b", "d", "a", "c"]
    assert _uids(store.list_runs(sort_by="-start_time", last=1)) == ["c"]


def test_list_runs_sort_by_results_and_parameters_missing_last(store):
    _put(store, "a", results={"acc": 0.5}, parameters={"lr": 3})
    _put(store, "b", results={"acc": 0.9}, parameters={"lr": 1})
    _put(store, "c", results={"loss": 1}, parameters={"lr": 2})
    _put(store, "d", results={"acc": 0.7})
    _put(store, "e", results={"acc": "high"}, parameters={"lr": -1})  # not a number: as if missing
    assert _uids(store.list_runs(sort_by="results.acc"))[:3] == ["a", "d", "b"]
    assert set(_uids(store.list_runs(sort_by="results.acc"))[3:]) == {"c", "e"}
    assert _uids(store.list_runs(sort_by="-results.acc"))[:3] == ["b", "d", "a"]
    assert set(_uids(store.list_runs(sort_by="-results.acc"))[3:]) == {"c", "e"}
    assert _uids(store.list_runs(sort_by="parameters.lr")) == ["e", "b", "c", "a", "d"]
    assert _uids(store.list_runs(sort_by="-parameters.lr")) == ["a", "c", "b", "e", "d"]
    assert _uids(store.list_runs(sort_by="-results.acc", last=2)) == ["b", "d"]
    assert _uids(store.list_runs(sort_by="-results.acc", last=2, offset=2)) == ["a", store.list_runs(
        sort_by="-results.acc")[3]["metadata"]["uid"]]


def test_list_runs_sort_by_name(store):
    for uid, name in (("1", "b"), ("2", "c"), ("3", "a")):
        _put(store, uid, name=name)
    assert [r["metadata"]["name"] for r in store.list_runs(sort_by="name")] == ["a", "b", "c"]
    assert [r["metadata"]["name"] for r in store.list_runs(sort_by="-name")] == ["c", "b", "a"]


@pytest.mark.parametrize("sort_by", ["bogus", "results", "status.results.x", "-metadata.name"])
def test_list_runs_unknown_sort_field_is_rejected(store, sort_by):
    _put(store, "u1")
    with pytest.raises(InvalidArgumentError, match="sort"):
        store.list_runs(sort_by=sort_by)


@pytest.mark.parametrize("labels", ["=x", ["=x"], "!=x", " =x"])
def test_malformed_label_filter_is_rejected(store, labels):
    _put(store, "u1", labels={"a": "x"})
    with pytest.raises(InvalidArgumentError, match="label"):
        store.list_runs(labels=labels)
    with pytest.raises(InvalidArgumentError, match="label"):
        store.list_artifacts(labels=labels)


def test_count_runs_matches_list_runs(store):
    for i in range(7):
        _put(store, f"u{i}", name="even" if i % 2 == 0 else "odd", state="error" if i == 3 else "completed",
             labels={"i": str(i)}, start=i)
    cases = [{}, {"name": "even"}, {"name": "~dd"}, {"state": "error"}, {"labels": "i!=2"},
             {"start_time_from": _at(2)}, {"project": "*"}, {"project": "nothing"}]
    for filters in cases:
        assert store.count_runs(**filters) == len(store.list_runs(**filters)), filters
    assert store.count_runs(name="even") == 4


# -- deleting runs --------------------------------------------------------------------------------
def test_del_run_with_and_without_iteration(store):
    for iteration in (0, 1, 2):
        _put(store, "p", iteration=iteration)
    _put(store, "other")
    store.store_log("p", body=b"hello")
    store.store_metrics("p", "", 0, [("m", 0, 1.0, 1.0)])
    store.del_run("p", iter=1)
    assert sorted((r["metadata"]["uid"], r["metadata"]["iteration"]) for r in store.list_runs(iter=True)) == [
        ("other", 0), ("p", 0), ("p", 2)]
    assert store.get_log("p")[1] == b"hello"
    store.del_run("p")
    assert _uids(store.list_runs(iter=True)) == ["other"]
    with pytest.raises(NotFoundError):
        store.get_log("p")
    assert store.list_metrics("p") == {}
    with pytest.raises(NotFoundError):
        store.read_run("p", iter=2)


def test_del_runs_by_filters_takes_iterations_along(store):
    _put(store, "p", state="error", name="sweep", labels={"team": "a"})
    _put(store, "p", iteration=1, state="completed", name="sweep", labels={"team": "a"})
    _put(store, "p", iteration=2, state="error", name="sweep", labels={"team": "a"})
    _put(store, "q", state="completed", name="single", labels={"team": "b"})
    _put(store, "r", state="error", name="single", labels={"team": "b"}, project="other")
    # the iteration 1 of "p" is completed, but the filter applies to parents: it goes with its parent
    assert store.del_runs(state="completed") == 1
    assert sorted(set(_uids(store.list_runs(iter=True, project="*")))) == ["p", "r"]
    assert store.del_runs(labels="team=a") == 3
    assert _uids(store.list_runs(iter=True)) == []
    assert _uids(store.list_runs(project="other")) == ["r"]
    assert store.del_runs(name="single", project="other") == 1
    assert store.list_runs(project="*", iter=True) == []


def test_del_runs_days_ago(store):
    _put(store, "old", start=0)  # 2024-01-01
    recent = _run("new")
    recent["status"]["start_time"] = datetime.now(UTC).isoformat()
    store.store_run(recent, "new")
    assert store.del_runs(days_ago=1) == 1
    assert _uids(store.list_runs()) == ["new"]


# -- logs -----------------------------------------------------------------------------------------
def test_logs_append_replace_offset_size(store):
    _put(store, "u1", state="running")
    store.store_log("u1", body=b"hello ")
    store.store_log("u1", body=b"world\n", append=True)
    store.store_log("u1", body="and more\n", append=True)
    state, body = store.get_log("u1")
    assert (state, body) == ("running", b"hello world\nand more\n")
    assert store.get_log("u1", offset=6)[1] == b"world\nand more\n"
    assert store.get_log("u1", offset=6, size=5)[1] == b"world"
    assert store.get_log("u1", offset=100)[1] == b""
    store.store_log("u1", body=b"replaced")
    assert store.get_log("u1")[1] == b"replaced"
    store.update_run({"status.state": "completed"}, "u1")
    assert store.get_log("u1")[0] == "completed"
    blob = bytes(range(256)) * 40
    store.store_log("u1", body=blob)
    assert store.get_log("u1")[1] == blob
    with pytest.raises(NotFoundError):
        store.get_log("nope")


# -- metrics --------------------------------------------------------------------------------------
def test_metrics_batches_order_and_nan(store):
    _put(store, "u1")
    store.store_metrics("u1", "default", 0, [("loss", 2, 0.5, 10.0), ("loss", 0, 0.9, 8.0), ("acc", 0, 0.1, 8.0)])
    store.store_metrics("u1", "default", 0, [("loss", 1, math.nan, 9.0), ("loss", 3, math.inf, 11.0)])
    store.store_metric("u1", "default", 0, "acc", 0.2, 1, 9.5)
    store.store_metrics("u1", "default", 1, [("loss", 0, 7.0, 1.0)])
    series = store.list_metrics("u1")
    assert sorted(series) == ["acc", "loss"]
    assert [(s, v) for s, v, _ in series["acc"]] == [(0, 0.1), (1, 0.2)]
    loss = series["loss"]
    assert [s for s, _, _ in loss] == [0, 1, 2, 3]
    assert loss[0][1] == 0.9 and math.isnan(loss[1][1]) and loss[2][1] == 0.5 and loss[3][1] == math.inf
    assert [t for _, _, t in loss] == [8.0, 9.0, 10.0, 11.0]
    assert list(store.list_metrics("u1", key="acc")) == ["acc"]
    assert store.list_metrics("u1", iter=1) == {"loss": [(0, 7.0, 1.0)]}
    assert store.list_metrics("u2") == {}


def test_metrics_big_batch(store):
    _put(store, "u1")
    points = [("m", i, i / 7, 1000.0 + i) for i in range(5000)]
    store.store_metrics("u1", "", 0, points)
    back = store.list_metrics("u1", key="m")["m"]
    assert back == [(s, v, t) for _, s, v, t in points]


# -- artifacts ------------------------------------------------------------------------------------
def test_artifact_versions_and_latest(store):
    v1 = store.store_artifact("model", _art("model", 1), "run1")
    v2 = store.store_artifact("model", _art("model", 2), "run2")
    assert v1 != v2
    assert store.read_artifact("model")["uid"] == v2
    assert store.read_artifact("model", tag="latest")["tree"] == "run2"
    assert store.read_artifact("model", uid=v1)["tree"] == "run1"
    latest = store.list_artifacts("model")
    assert [a["uid"] for a in latest] == [v2]
    assert latest[0]["tags"] == ["latest"]
    everything = store.list_artifacts("model", tag="*")
    assert [a["uid"] for a in everything] == [v2, v1]
    assert everything[1]["tags"] == []
    assert store.list_artifacts(tag="run1")[0]["uid"] == v1  # a producer uid names its versions
    art = store.read_artifact("model", uid=v1)
    assert art["uri"].startswith("store://artifacts/default/model")
    assert art["target_path"] == "/a/model/1"


def test_explicit_tag_moves_between_versions(store):
    v1 = store.store_artifact("model", _art("model", 1), "run1", tag="prod")
    v2 = store.store_artifact("model", _art("model", 2), "run2")
    assert store.read_artifact("model", tag="prod")["uid"] == v1
    v3 = store.store_artifact("model", _art("model", 3), "run3", tag="prod")
    assert store.read_artifact("model", tag="prod")["uid"] == v3
    assert [a["uid"] for a in store.list_artifacts(tag="prod")] == [v3]
    store.tag_artifact("model", "prod", uid=v1)
    assert store.read_artifact("model", tag="prod")["uid"] == v1
    assert sorted(store.read_artifact("model", uid=v1)["tags"]) == ["prod"]
    assert store.read_artifact("model", uid=v3)["tags"] == ["latest"]
    store.tag_artifact("model", "also", uid=v2)
    assert store.read_artifact("model", tag="also")["uid"] == v2
    with pytest.raises(NotFoundError):
        store.tag_artifact("model", "x", uid="nope")
    with pytest.raises(NotFoundError):
        store.read_artifact("model", tag="nope")


def test_storing_an_existing_version_updates_it(store):
    version = store.store_artifact("data", _art("data", 1, labels={"a": "1"}), "run1")
    again = store.store_artifact("data", {**_art("data", 1, labels={"b": "2"}), "uid": version, "size": 99},
                                 "run1")
    assert again == version
    assert len(store.list_artifacts("data", tag="*")) == 1
    art = store.read_artifact("data")
    assert art["size"] == 99 and art["labels"] == {"b": "2"}
    assert store.list_artifacts(labels="a") == []


def test_read_artifact_by_tree_and_iteration(store):
    for iteration in (1, 2, 3):
        store.store_artifact("plot", _art("plot", iteration, note=f"it{iteration}"), "hyper", iter=iteration)
    store.store_artifact("plot", _art("plot", 10), "other")
    assert store.read_artifact("plot", tree="hyper", iter=2)["note"] == "it2"
    assert store.read_artifact("plot", tree="hyper", iter=2)["iter"] == 2
    assert store.read_artifact("plot")["tree"] == "other"
    with pytest.raises(NotFoundError):
        store.read_artifact("plot", tree="hyper", iter=9)
    with pytest.raises(NotFoundError):
        store.read_artifact("nothing")
    assert sorted(a["iter"] for a in store.list_artifacts("plot", tag="*", tree="hyper")) == [1, 2, 3]
    assert [a["note"] for a in store.list_artifacts(tag="*", iter=3)] == ["it3"]


def test_read_artifact_iteration_of_the_tagged_version(store):
    for iteration in (1, 2, 3):
        store.store_artifact("plot", _art("plot", iteration, note=f"old{iteration}"), "old", iter=iteration)
    for iteration in (1, 2):
        store.store_artifact("plot", _art("plot", 10 + iteration, note=f"new{iteration}"), "new", iter=iteration,
                             tag="v2" if iteration == 1 else "")
    assert store.read_artifact("plot")["note"] == "new2"
    assert store.read_artifact("plot", iter=1)["note"] == "new1"  # the latest version's run, iteration 1
    assert store.read_artifact("plot", tag="v2", iter=2)["note"] == "new2"
    with pytest.raises(NotFoundError):
        store.read_artifact("plot", iter=3)
    assert store.read_artifact("plot", tree="old", iter=3)["note"] == "old3"


def test_del_artifacts_by_tag_only_touches_tagged_versions(store):
    v1 = store.store_artifact("a", _art("a", 1), "r1", tag="keep")
    store.store_artifact("a", _art("a", 2), "r2", tag="drop")
    store.store_artifact("b", _art("b", 3), "r3", tag="drop")
    assert store.del_artifacts(tag="drop") == 2
    assert [a["uid"] for a in store.list_artifacts(tag="*")] == [v1]
    assert sorted(store.read_artifact("a")["tags"]) == ["keep", "latest"]


def test_best_iteration_flag(store):
    for iteration in (1, 2, 3):
        store.store_artifact("model", _art("model", iteration), "hyper", iter=iteration)
        store.store_artifact("table", _art("table", iteration), "hyper", iter=iteration)
    store.store_artifact("single", _art("single", 5), "solo")
    store.mark_best_iteration("default", "hyper", 2)
    best = store.list_artifacts(tag="*", best_iteration=True)
    assert sorted((a["key"], a["iter"]) for a in best) == [("model", 2), ("single", 0), ("table", 2)]
    assert all(a["best_iteration"] for a in best if a["iter"])
    assert not store.read_artifact("model", tree="hyper", iter=1)["best_iteration"]


def test_list_artifacts_by_kind_labels_and_time(store):
    store.store_artifact("m", _art("m", 1, kind="model", labels={"framework": "sklearn", "stage": "dev"}), "r")
    store.store_artifact("d", _art("d", 2, kind="dataset", labels={"framework": "none"}), "r")
    store.store_artifact("c", _art("c", 3, kind="chart"), "r")

    def keys(**kw) -> list[str]:
        return sorted(a["key"] for a in store.list_artifacts(**kw))

    assert keys(kind="model") == ["m"]
    assert keys(kind="dataset") == ["d"]
    assert keys(labels="framework=sklearn") == ["m"]
    assert keys(labels={"framework": "none"}) == ["d"]
    assert keys(labels="framework!=sklearn") == ["c", "d"]
    assert keys(labels="framework~=SKL") == ["m"]
    assert keys(labels="framework~=n") == ["d", "m"]
    assert keys(labels="stage") == ["m"]
    assert keys(labels=["framework", "stage=dev"]) == ["m"]
    assert keys(since=_at(2)) == ["c", "d"]
    assert keys(until=_at(2)) == ["d", "m"]
    assert keys(since=T0 + timedelta(minutes=1.5), until=T0 + timedelta(minutes=2.5)) == ["d"]


def test_artifact_label_substring_is_literal_and_case_insensitive(store):
    store.store_artifact("x", _art("x", 1, labels={"code": "A_B"}), "r")
    store.store_artifact("y", _art("y", 2, labels={"code": "axb"}), "r")
    store.store_artifact("z", _art("z", 3, labels={"code": "50%"}), "r")
    assert [a["key"] for a in store.list_artifacts(labels="code~=a_b")] == ["x"]
    assert [a["key"] for a in store.list_artifacts(labels="code~=0%")] == ["z"]
    assert sorted(a["key"] for a in store.list_artifacts(labels="code~=B")) == ["x", "y"]


def test_list_artifacts_by_name(store):
    for minute, key in enumerate(("model", "model-2", "my_model", "myXmodel", "plots/roc", "100%")):
        store.store_artifact(key, _art(key, minute), "r")

    def keys(name: str) -> list[str]:
        return sorted(a["key"] for a in store.list_artifacts(name))

    assert keys("model") == sorted(["model", "model-2", "my_model", "myXmodel"])
    assert keys("=model") == ["model"]
    assert keys("MODEL") == keys("model")
    assert keys("y_m") == ["my_model"]
    assert keys("0%") == ["100%"]
    assert keys("plots/") == ["plots/roc"]
    assert keys("=plots/roc") == ["plots/roc"]
    assert keys("=mode") == []


def test_list_artifacts_by_project(store):
    store.store_artifact("a", _art("a", 1), "r", project="p1")
    store.store_artifact("b", _art("b", 2), "r", project="p2")
    assert [a["key"] for a in store.list_artifacts(project="p1")] == ["a"]
    assert sorted(a["key"] for a in store.list_artifacts(project="*")) == ["a", "b"]
    assert store.list_artifacts() == []
    assert store.read_artifact("b", project="p2")["project"] == "p2"
    with pytest.raises(NotFoundError):
        store.read_artifact("b", project="p1")


def test_del_artifact_moves_latest_back(store):
    v1 = store.store_artifact("model", _art("model", 1), "r1", tag="v1")
    v2 = store.store_artifact("model", _art("model", 2), "r2", tag="v2")
    v3 = store.store_artifact("model", _art("model", 3), "r3")
    store.del_artifact("model", uid=v3)
    assert store.read_artifact("model")["uid"] == v2
    assert sorted(store.read_artifact("model")["tags"]) == ["latest", "v2"]
    store.del_artifact("model", tag="v2")
    assert store.read_artifact("model")["uid"] == v1
    assert [a["uid"] for a in store.list_artifacts("model", tag="*")] == [v1]
    with pytest.raises(NotFoundError):
        store.del_artifact("model", tag="v2")
    with pytest.raises(NotFoundError):
        store.del_artifact("model", uid="nope")
    store.store_artifact("model", _art("model", 4), "r4")
    store.del_artifact("model")
    assert store.list_artifacts("model", tag="*") == []
    with pytest.raises(NotFoundError):
        store.read_artifact("model")
    with pytest.raises(NotFoundError):
        store.del_artifact("model")


def test_del_artifacts_by_filters(store):
    store.store_artifact("a", _art("a", 1, labels={"x": "1"}), "r")
    store.store_artifact("a", _art("a", 2, labels={"x": "2"}), "r2")
    store.store_artifact("b", _art("b", 3, labels={"x": "1"}), "r")
    store.store_artifact("c", _art("c", 4), "r", project="other")
    assert store.del_artifacts(labels="x=2") == 1
    assert store.read_artifact("a")["labels"] == {"x": "1"}  # latest moved back to the remaining version
    assert store.del_artifacts(name="b") == 1
    assert [a["key"] for a in store.list_artifacts(tag="*")] == ["a"]
    assert store.del_artifacts() == 1
    assert store.list_artifacts(tag="*") == []
    assert [a["key"] for a in store.list_artifacts(project="other")] == ["c"]


# -- functions ------------------------------------------------------------------------------------
def _fn(command: str, **extra) -> dict:
    return {"kind": "job", "metadata": {"name": "trainer", "labels": {"team": "a"}},
            "spec": {"command": command, "args": [], "image": "", **extra}}


def test_functions_versions_hashes_and_tags(store):
    h1 = store.store_function(_fn("train.py"), "trainer", tag="v1", versioned=True)
    reordered = {"spec": {"image": "", "args": [], "command": "train.py"}, "kind": "job",
                 "metadata": {"labels": {"team": "a"}, "name": "trainer", "tag": "other", "hash": "zzz"}}
    assert store.store_function(reordered, "trainer", tag="v1", versioned=True) == h1  # equal content
    h2 = store.store_function(_fn("train2.py"), "trainer", versioned=True)
    assert h2 != h1
    assert store.get_function("trainer", tag="v1")["spec"]["command"] == "train.py"
    assert store.get_function("trainer")["spec"]["command"] == "train2.py"  # latest
    assert store.get_function("trainer", hash_key=h1)["spec"]["command"] == "train.py"
    assert store.get_function("trainer", hash_key=h1)["metadata"]["hash"] == h1
    # the tag moves to the newer version; the old one stays reachable by its hash
    store.store_function(_fn("train2.py"), "trainer", tag="v1", versioned=True)
    assert store.get_function("trainer", tag="v1")["spec"]["command"] == "train2.py"
    assert store.get_function("trainer", hash_key=h1)["spec"]["command"] == "train.py"
    assert len(store.list_functions(tag="*")) == 2
    with pytest.raises(NotFoundError):
        store.get_function("trainer", tag="nope")
    with pytest.raises(NotFoundError):
        store.get_function("trainer", hash_key="0" * 40)
    with pytest.raises(NotFoundError):
        store.get_function("nobody")


def test_list_and_delete_functions(store):
    store.store_function(_fn("a.py"), "trainer", versioned=True)
    other = _fn("b.py")
    other["metadata"] = {"name": "server", "labels": {"team": "b"}}
    store.store_function(other, "server", versioned=True)
    store.store_function(_fn("c.py"), "trainer", project="p2", versioned=True)
    assert sorted(f["metadata"]["name"] for f in store.list_functions()) == ["server", "trainer"]
    assert [f["spec"]["command"] for f in store.list_functions(name="trainer")] == ["a.py"]
    assert [f["metadata"]["name"] for f in store.list_functions(labels="team=b")] == ["server"]
    assert [f["spec"]["command"] for f in store.list_functions(project="p2")] == ["c.py"]
    store.delete_function("trainer")
    assert [f["metadata"]["name"] for f in store.list_functions(tag="*")] == ["server"]
    with pytest.raises(NotFoundError):
        store.get_function("trainer")
    assert store.get_function("trainer", project="p2")["spec"]["command"] == "c.py"


# -- projects -------------------------------------------------------------------------------------
def test_projects_listing_and_delete(store):
    _put(store, "u1", project="p1")
    _put(store, "u1", project="p1", iteration=1)
    _put(store, "u2", project="p1")
    _put(store, "u3", project="p2")
    store.store_artifact("a", _art("a", 1), "u1", project="p1")
    store.store_artifact("a", _art("a", 2), "u2", project="p1")
    store.store_function(_fn("x.py"), "trainer", project="p2", versioned=True)
    projects = {p["name"]: p for p in store.list_projects()}
    assert set(projects) == {"p1", "p2"}
    assert (projects["p1"]["runs"], projects["p1"]["artifacts"]) == (2, 2)
    assert (projects["p2"]["runs"], projects["p2"]["artifacts"]) == (1, 0)
    assert projects["p1"]["created"] > 0
    store.store_log("u1", "p1", b"log")
    store.delete_project("p1")
    assert [p["name"] for p in store.list_projects()] == ["p2"]
    assert store.list_runs(project="p1", iter=True) == []
    assert store.list_artifacts(project="p1", tag="*") == []
    with pytest.raises(NotFoundError):
        store.get_log("u1", "p1")
    with pytest.raises(NotFoundError):
        store.delete_project("p1")
    # the project comes back when something is recorded in it again
    _put(store, "u9", project="p1")
    assert {p["name"] for p in store.list_projects()} == {"p1", "p2"}
    store.delete_project("p2")
    with pytest.raises(NotFoundError):
        store.get_function("trainer", project="p2")
