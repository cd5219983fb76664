"""The run context handed to user code: parameters, results, metrics, labels, inputs and secrets, read back
from the store. Standalone scripts (``python script.py`` with `get_or_create_ctx`) run as real processes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import trackrun
from trackrun.schemas import codec


def _script(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


def _run_python(script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          cwd=cwd or script.parent, timeout=60)


def test_get_param_default_is_recorded(db):
    def handler(context):
        context.log_result("p", context.get_param("p", 7))
        context.log_result("given", context.get_param("given", 0))
        context.log_result("listed", context.get_param("listed", [1, 2]))

    run = trackrun.run_local(handler=handler, params={"given": 3})
    record = db.read_run(run.uid())
    assert record["spec"]["parameters"] == {"given": 3, "p": 7, "listed": [1, 2]}
    assert record["status"]["results"] == {"p": 7, "given": 3, "listed": [1, 2]}
    assert record["status"]["state"] == "completed"


def test_log_result_and_results_convert_numpy_values(db):
    def handler(context):
        context.log_result("i", np.int64(3))
        context.log_result("f", np.float32(0.5))
        context.log_result("arr", np.array([[1, 2], [3, 4]]))
        context.log_result("flag", np.bool_(True))
        context.log_result("nan", np.float64("nan"))
        context.log_results({"nested": {"x": np.float64(1.5), "l": (np.int8(1), 2)}, "text": "ok"})

    run = trackrun.run_local(handler=handler)
    results = db.read_run(run.uid())["status"]["results"]
    assert results["i"] == 3 and type(results["i"]) is int
    assert results["f"] == 0.5 and type(results["f"]) is float
    assert results["arr"] == [[1, 2], [3, 4]]
    assert results["flag"] is True
    assert math.isnan(results["nan"])
    assert results["nested"] == {"x": 1.5, "l": [1, 2]}
    assert results["text"] == "ok"
    assert run.outputs["i"] == 3


def test_log_metric_many_points_with_steps_and_nan(db):
    def handler(context):
        for step in range(10_000):
            context.log_metric("loss", math.nan if step == 5 else 1.0 / (step + 1), step=step)
        for _ in range(3):
            context.log_metric("acc", 0.5)  # no step: the series counts on its own
        context.log_metrics({"a": 1, "b": 2}, step=9)

    run = trackrun.run_local(handler=handler)
    series = db.list_metrics(run.uid())
    assert sorted(series) == ["a", "acc", "b", "loss"]
    loss = series["loss"]
    assert len(loss) == 10_000
    assert [step for step, _, _ in loss] == list(range(10_000))
    assert math.isnan(loss[5][1])
    assert loss[9_999][1] == 1.0 / 10_000 and loss[0][1] == 1.0
    assert [(s, v) for s, v, _ in series["acc"]] == [(0, 0.5), (1, 0.5), (2, 0.5)]
    assert series["b"][0][:2] == (9, 2.0)


def test_labels_and_annotations(db):
    def handler(context):
        context.set_label("stage", "dev")
        context.set_label("stage", "prod", replace=False)  # kept as dev
        context.set_label("framework", "sklearn")
        context.set_label("framework", "xgboost")
        context.set_annotation("note", "first try")

    run = trackrun.run_local(handler=handler, labels={"team": "a"})
    record = db.read_run(run.uid())
    labels = record["metadata"]["labels"]
    assert labels["stage"] == "dev" and labels["framework"] == "xgboost" and labels["team"] == "a"
    assert labels["kind"] == "handler" and labels["owner"] and labels["host"]
    assert record["metadata"]["annotations"]["note"] == "first try"
    assert [r["metadata"]["uid"] for r in db.list_runs(labels=["stage=dev", "framework=xgboost"])] == [run.uid()]
    assert db.list_runs(labels="stage=prod") == []


def test_get_input_local_file_and_relative_paths(db, tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "data.txt").write_text("input body")
    (work / "sub" / "other.txt").write_text("other body")
    monkeypatch.chdir(work)
    seen = {}

    def handler(context):
        seen["infile"] = context.get_input("infile").get()
        seen["other"] = context.get_input("other", "sub/other.txt").get(encoding="utf-8")
        seen["local"] = context.get_input("infile").local()

    run = trackrun.run_local(handler=handler, inputs={"infile": "data.txt"})
    assert seen == {"infile": b"input body", "other": "other body", "local": str(work / "data.txt")}
    inputs = db.read_run(run.uid())["spec"]["inputs"]
    assert inputs == {"infile": str(work / "data.txt"), "other": str(work / "sub" / "other.txt")}
    # the recorded paths are absolute: they still name the files from another working folder
    monkeypatch.chdir(tmp_path)
    assert trackrun.get_dataitem(inputs["other"]).get() == b"other body"


def test_missing_input_file_fails_the_run_with_its_path(db, tmp_path):
    def handler(context):
        context.get_input("infile").get()

    with pytest.raises(trackrun.RunError) as info:
        trackrun.run_local(handler=handler, inputs={"infile": str(tmp_path / "absent.csv")})
    record = db.read_run(info.value.run.uid())
    assert record["status"]["state"] == "error"
    assert "absent.csv" in record["status"]["error"]


SECRETS = {"ACCESS_KEY": "file-secret-value-123", "MY_TOKEN": "env-secret-value-456",
           "INLINE_KEY": "inline-secret-value-789"}


def _secret_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handler):
    secrets_file = tmp_path / "secrets.txt"
    secrets_file.write_text(f"# comment\nACCESS_KEY={SECRETS['ACCESS_KEY']}\n\n")
    monkeypatch.setenv("MY_TOKEN", SECRETS["MY_TOKEN"])
    return (trackrun.new_task(handler=handler, name="secretive")
            .with_secrets("file", str(secrets_file))
            .with_secrets("env", "MY_TOKEN")
            .with_secrets("inline", {"INLINE_KEY": SECRETS["INLINE_KEY"]}))


def _assert_no_secret_in(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


def test_secrets_from_file_env_and_inline_never_stored(db, tmp_path, monkeypatch):
    def handler(context):
        for key in SECRETS:
            value = context.get_secret(key)
            context.log_result(f"len_{key}", len(value or ""))
            context.log_result(f"ok_{key}", value == SECRETS[key])
            print(f"the secret {key} is {value}")
        context.log_result("missing", context.get_secret("NOPE") is None)

    run = trackrun.run_local(_secret_task(tmp_path, monkeypatch, handler))
    record = db.read_run(run.uid())
    results = record["status"]["results"]
    assert all(results[f"ok_{key}"] for key in SECRETS), results
    assert results["missing"] is True
    kinds = sorted(src["kind"] for src in record["spec"]["secret_sources"])
    assert kinds == ["env", "file", "inline"]
    _assert_no_secret_in(codec.dumps(record))
    _assert_no_secret_in(codec.dumps(db.list_runs(name="secretive")))
    _state, log = db.get_log(run.uid())
    text = log.decode()
    assert "the secret ACCESS_KEY is ***" in text
    _assert_no_secret_in(text)


def test_secret_in_an_error_message_is_masked(db, tmp_path, monkeypatch):
    def handler(context):
        raise RuntimeError(f"cannot log in with {context.get_secret('MY_TOKEN')}")

    with pytest.raises(trackrun.RunError) as info:
        trackrun.run_local(_secret_task(tmp_path, monkeypatch, handler))
    _assert_no_secret_in(str(info.value))
    uid = info.value.run.uid()
    record = db.read_run(uid)
    assert record["status"]["state"] == "error"
    assert "cannot log in with ***" in record["status"]["error"]
    _assert_no_secret_in(codec.dumps(record))
    _assert_no_secret_in(db.get_log(uid)[1].decode())


def test_standalone_script_records_a_completed_run_with_its_output(db, tmp_path):
    script = _script(tmp_path / "standalone.py", """
        import trackrun

        context = trackrun.get_or_create_ctx("standalone", labels={"how": "script"})
        p1 = context.get_param("p1", 3)
        print("hello from the script", p1)
        context.log_result("double", p1 * 2)
        context.log_artifact("note", body=b"a note")
    """)
    done = _run_python(script)
    assert done.returncode == 0, done.stderr
    assert "hello from the script 3" in done.stdout
    runs = db.list_runs(name="standalone")
    assert len(runs) == 1
    record = runs[0]
    assert record["status"]["state"] == "completed"
    assert record["status"]["results"] == {"double": 6}
    assert record["spec"]["parameters"] == {"p1": 3}
    assert record["metadata"]["labels"]["how"] == "script"
    assert record["status"].get("end_time")
    assert [a["key"] for a in record["status"]["artifacts"]] == ["note"]
    state, log = db.get_log(record["metadata"]["uid"])
    assert state == "completed"
    assert "hello from the script 3" in log.decode()


def test_standalone_script_that_raises_records_the_error_and_traceback(db, tmp_path):
    script = _script(tmp_path / "broken.py", """
        import trackrun

        context = trackrun.get_or_create_ctx("broken")
        print("about to fail")
        context.log_result("before", 1)
        raise ValueError("bad thing happened")
    """)
    done = _run_python(script)
    assert done.returncode != 0
    assert "bad thing happened" in done.stderr
    runs = db.list_runs(name="broken")
    assert len(runs) == 1
    status = runs[0]["status"]
    assert status["state"] == "error"
    assert status["error"] == "ValueError: bad thing happened"
    assert "broken.py" in status["traceback"] and 'raise ValueError("bad thing happened")' in status["traceback"]
    assert status["results"] == {"before": 1}
    log = db.get_log(runs[0]["metadata"]["uid"])[1].decode()
    assert "about to fail" in log and "Traceback" in log


def test_standalone_script_sees_dbpath_from_the_environment(tmp_path):
    other = tmp_path / "elsewhere"
    script = _script(tmp_path / "where.py", """
        import trackrun

        trackrun.get_or_create_ctx("where").log_result("x", 1)
    """)
    env = {**os.environ, "TRACKRUN_DBPATH": str(other)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert trackrun.get_run_db().list_runs(name="where") == []
    elsewhere = trackrun.get_run_db(str(other))
    assert [r["status"]["results"] for r in elsewhere.list_runs(name="where")] == [{"x": 1}]
