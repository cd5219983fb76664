"""Hyper-parameter runs end to end: one parent and its iteration records in the store, the iteration table,
the best iteration, errors, early stops, strategies, parameter files, parallel runs and script sweeps."""

import csv
import io
import json
import math
import textwrap
from pathlib import Path

import pytest

from trackrun import new_task, run_local
from trackrun.errors import RunError

SCORES = {1: -3.0, 2: 0.0, 3: -1.0, 4: 0.0, 5: 2.5, 6: 2.5}


def scored(context, p: int, q: str = "a", fixed: int = 0):
    """score depends on p only (so ties are easy to arrange); a model artifact per iteration."""
    context.log_artifact("model", body=f"model {p} {q}".encode())
    return {"score": SCORES.get(p, float(p)), "p_twice": p * 2, "q": q}


def by_value(context, v: float = 0.0):
    return {"v": v}


def fails_on_even(context, p: int):
    if p % 2 == 0:
        raise ValueError(f"p={p} is even")
    return {"score": p}


def _iterations(db, uid: str) -> dict[int, dict]:
    return {r["metadata"]["iteration"]: r for r in db.list_runs(uid=uid, iter=True)}


def _csv_rows(table: list[list]) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in table]


def test_grid_records_parent_iterations_and_table(db):
    task = new_task(handler=scored, name="grid", params={"fixed": 7}).with_hyper_params(
        {"p": [1, 2, 3], "q": ["a", "b"]}, selector="max.score")
    run = run_local(task)
    uid = run.uid()
    records = _iterations(db, uid)
    assert sorted(records) == list(range(7))
    assert [r["metadata"]["uid"] for r in db.list_runs(name="grid")] == [uid]  # iter=False: the parent only
    parent = records[0]
    assert parent["status"]["state"] == "completed"
    table = parent["status"]["iterations"]
    assert table[0] == ["state", "iter", "param.fixed", "param.p", "param.q", "output.score", "output.p_twice",
                        "output.q"]
    assert len(table) == 7
    for row in table[1:]:
        child = records[row[1]]
        assert child["status"]["state"] == row[0] == "completed"
        assert child["metadata"]["name"] == "grid"
        params = child["spec"]["parameters"]
        assert row[2:5] == [params["fixed"], params["p"], params["q"]]
        assert row[5:] == [child["status"]["results"][k] for k in ("score", "p_twice", "q")]
    assert sorted((r[3], r[4]) for r in table[1:]) == [(p, q) for p in (1, 2, 3) for q in "ab"]
    assert "hyperparams" not in records[1]["spec"]


def test_best_iteration_by_max_with_ties_going_to_the_earliest(db):
    task = new_task(handler=scored).with_hyper_params({"p": [1, 2, 3, 4]}, selector="max.score")
    run = run_local(task)
    results = db.read_run(run.uid())["status"]["results"]
    # scores -3, 0, -1, 0: the best is 0, reached first at iteration 2
    assert results["best_iteration"] == 2
    assert results["score"] == 0.0 and results["p_twice"] == 4


def test_best_iteration_by_min_with_negative_values(db):
    task = new_task(handler=scored).with_hyper_params({"p": [2, 5, 1, 3]}, selector="min.score")
    run = run_local(task)
    results = db.read_run(run.uid())["status"]["results"]
    assert results["best_iteration"] == 3 and results["score"] == -3.0


def test_nan_result_is_never_the_best(db):
    task = new_task(handler=by_value).with_hyper_params({"v": [math.nan, 1.0, math.nan, 0.5]}, selector="min.v")
    assert db.read_run(run_local(task).uid())["status"]["results"]["best_iteration"] == 4
    task = new_task(handler=by_value).with_hyper_params({"v": [math.nan, -1.0, math.nan]}, selector="max.v")
    assert db.read_run(run_local(task).uid())["status"]["results"]["best_iteration"] == 2


def test_failing_iteration_is_recorded_and_the_sweep_goes_on(db):
    task = new_task(handler=fails_on_even, name="mixed").with_hyper_params({"p": [1, 2, 3, 4, 5]},
                                                                          selector="max.score")
    run = run_local(task)
    records = _iterations(db, run.uid())
    assert sorted(records) == [0, 1, 2, 3, 4, 5]
    assert [records[i]["status"]["state"] for i in range(1, 6)] == ["completed", "error", "completed", "error",
                                                                    "completed"]
    assert records[2]["status"]["error"] == "ValueError: p=2 is even"
    assert "raise ValueError" in records[4]["status"]["traceback"]
    parent = records[0]
    assert parent["status"]["state"] == "completed"
    assert parent["status"]["results"]["best_iteration"] == 5
    assert [row[0] for row in parent["status"]["iterations"][1:]] == ["completed", "error", "completed", "error",
                                                                      "completed"]
    assert "2 failed" in parent["status"]["status_text"]


def test_max_errors_stops_the_sweep_and_stores_nothing_more(db):
    task = new_task(handler=fails_on_even, name="fragile").with_hyper_params(
        {"p": [2, 1, 4, 6, 3, 5]}, selector="max.score", max_errors=1)
    with pytest.raises(RunError, match="max_errors"):
        run_local(task)
    (parent,) = db.list_runs(name="fragile")
    records = _iterations(db, parent["metadata"]["uid"])
    # iteration 1 fails (1 error, allowed), 2 completes, 3 fails (2 errors > 1): 4..6 never start
    assert sorted(records) == [0, 1, 2, 3]
    assert parent["status"]["state"] == "error"
    assert len(parent["status"]["iterations"]) == 4
    assert db.count_runs(iter=True) == 4


def test_max_errors_with_parallel_runs_leaves_no_iteration_unfinished(db):
    task = new_task(handler=fails_on_even, name="fragile2").with_hyper_params(
        {"p": [2, 4, 6, 8, 1, 3, 5, 7, 9, 11]}, selector="max.score", max_errors=1)
    with pytest.raises(RunError, match="max_errors"):
        run_local(task, parallel_runs=2)
    (parent,) = db.list_runs(name="fragile2")
    records = _iterations(db, parent["metadata"]["uid"])
    table = parent["status"]["iterations"]
    # only what was started is stored, and every stored iteration finished and is in the table
    assert 3 <= len(records) - 1 < 10
    assert sorted(row[1] for row in table[1:]) == sorted(i for i in records if i)
    assert all(records[i]["status"]["state"] in ("completed", "error") for i in records)


def test_all_iterations_failing_fails_the_parent(db):
    task = new_task(handler=fails_on_even, name="doomed").with_hyper_params({"p": [2, 4]}, selector="max.score")
    with pytest.raises(RunError, match="all iterations failed"):
        run_local(task)
    (parent,) = db.list_runs(name="doomed")
    assert parent["status"]["state"] == "error"


def test_stop_condition_ends_early(db):
    task = new_task(handler=by_value, name="early").with_hyper_params(
        {"v": [1, 2, 3, 4, 5, 6]}, selector="max.v", stop_condition="v >= 3")
    run = run_local(task)
    records = _iterations(db, run.uid())
    assert sorted(records) == [0, 1, 2, 3]
    status = records[0]["status"]
    assert status["state"] == "completed"
    assert status["results"]["best_iteration"] == 3
    assert "stopped early" in status["status_text"]


def test_list_strategy(db):
    task = new_task(handler=scored).with_hyper_params({"p": [1, 2, 3], "q": ["x", "y", "z"]}, strategy="list")
    run = run_local(task)
    table = db.read_run(run.uid())["status"]["iterations"]
    assert [(row[1], row[2], row[3]) for row in table[1:]] == [(1, 1, "x"), (2, 2, "y"), (3, 3, "z")]


def test_random_strategy_with_max_iterations(db):
    space = {"p": [1, 2, 3, 4], "q": ["x", "y"]}
    task = new_task(handler=scored).with_hyper_params(space, strategy="random", max_iterations=5)
    run = run_local(task)
    records = _iterations(db, run.uid())
    assert sorted(records) == list(range(6))
    for i in range(1, 6):
        params = records[i]["spec"]["parameters"]
        assert params["p"] in space["p"] and params["q"] in space["q"]


def _write_param_files(folder: Path) -> dict[str, str]:
    csv_text = "p,q\n1,x\n5,y\n3,z\n"
    json_text = json.dumps({"p": [1, 5], "q": ["x", "y"]})
    (folder / "params.csv").write_text(csv_text)
    (folder / "params.json").write_text(json_text)
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.pipe("/hyper-test/params.csv", csv_text.encode())
    memory.pipe("/hyper-test/params.json", json_text.encode())
    return {"csv": str(folder / "params.csv"), "json": str(folder / "params.json"),
            "memory-csv": "memory://hyper-test/params.csv", "memory-json": "memory://hyper-test/params.json"}


@pytest.mark.parametrize("which", ["csv", "memory-csv"])
def test_csv_param_file(db, tmp_path, which):
    url = _write_param_files(tmp_path)[which]
    run = run_local(new_task(handler=scored).with_param_file(url, "max.score"))
    table = db.read_run(run.uid())["status"]["iterations"]
    assert [(row[2], row[3]) for row in table[1:]] == [(1, "x"), (5, "y"), (3, "z")]
    assert db.read_run(run.uid())["status"]["results"]["best_iteration"] == 2


@pytest.mark.parametrize("which", ["json", "memory-json"])
def test_json_param_file(db, tmp_path, which):
    url = _write_param_files(tmp_path)[which]
    run = run_local(new_task(handler=scored).with_param_file(url, "max.score"))
    table = db.read_run(run.uid())["status"]["iterations"]
    assert sorted((row[2], row[3]) for row in table[1:]) == [(1, "x"), (1, "y"), (5, "x"), (5, "y")]


def test_relative_param_file_is_resolved(db, tmp_path, monkeypatch):
    _write_param_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = run_local(new_task(handler=scored).with_param_file("params.csv", "max.score"))
    assert len(db.read_run(run.uid())["status"]["iterations"]) == 4


def test_parallel_runs_give_the_same_table_as_sequential(db):
    space = {"p": [1, 2, 3, 4, 5, 6], "q": ["a", "b"]}
    sequential = run_local(new_task(handler=scored, name="seq").with_hyper_params(space, "max.score"))
    parallel = run_local(new_task(handler=scored, name="par").with_hyper_params(space, "max.score"),
                         parallel_runs=2)
    seq = db.read_run(sequential.uid())["status"]
    par = db.read_run(parallel.uid())["status"]
    assert par["iterations"] == seq["iterations"]
    assert par["results"] == seq["results"]
    assert len(db.list_runs(name="par", iter=True)) == 13
    pids = {r["status"]["pid"] for r in db.list_runs(name="par", iter=True) if r["metadata"]["iteration"]}
    assert len(pids) >= 1 and par["pid"] not in pids  # iterations ran in forked workers


SWEEP_SCRIPT = """
    import trackrun

    context = trackrun.get_or_create_ctx("sweep")
    p = context.get_param("p", 0)
    print(f"iteration with p={p}")
    context.log_result("score", {1: 0.5, 2: 0.9, 3: 0.1, 4: 0.9}.get(p, 0.0))
    context.log_artifact("out", body=f"p={p}".encode())
"""


def test_script_sweep_sequential_and_parallel(db, tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(SWEEP_SCRIPT))
    space = {"p": [1, 2, 3]}
    first = run_local(new_task(name="s1").with_hyper_params(space, "max.score"), command=str(script))
    second = run_local(new_task(name="s2").with_hyper_params(space, "max.score"), command=str(script),
                       parallel_runs=2)
    one = db.read_run(first.uid())["status"]
    two = db.read_run(second.uid())["status"]
    assert one["iterations"] == two["iterations"]
    assert [row[3] for row in one["iterations"][1:]] == [0.5, 0.9, 0.1]
    assert one["results"]["best_iteration"] == two["results"]["best_iteration"] == 2
    records = _iterations(db, second.uid())
    assert all(records[i]["status"]["state"] == "completed" for i in range(1, 4))
    log = db.get_log(second.uid())[1].decode()
    assert all(f"iteration with p={p}" in log for p in space["p"])
    assert "Iteration: (3)" in log


def test_iteration_results_artifact_and_best_artifacts(db):
    task = new_task(handler=scored, name="arts").with_hyper_params({"p": [1, 5, 3]}, selector="max.score")
    run = run_local(task)
    status = db.read_run(run.uid())["status"]
    table = status["iterations"]
    art = db.read_artifact("arts_iteration_results")
    assert art["kind"] == "table" and art["tree"] == run.uid() and art["iter"] == 0
    body = Path(art["target_path"]).read_text()
    assert list(csv.reader(io.StringIO(body))) == _csv_rows(table)
    assert run.artifact("iteration_results").get().decode() == body
    # the best iteration's model is flagged, the others are not
    models = db.list_artifacts(name="=arts_model", tag="*")
    assert sorted(a["iter"] for a in models) == [1, 2, 3]
    best = db.list_artifacts(name="=arts_model", tag="*", best_iteration=True)
    assert [(a["iter"], a["best_iteration"]) for a in best] == [(2, True)]
    # the parent's results and artifacts are the best iteration's
    assert status["results"] == {"score": 2.5, "p_twice": 10, "q": "a", "best_iteration": 2}
    assert run.artifact("model").get() == b"model 5 a"
