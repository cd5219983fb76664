"""Runtimes end to end: handlers in process, .py files as scripts in child processes, jobs, the run object,
artifact path templates, failures. Real stores, real files, real child processes."""

import os
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

import trackrun
from trackrun import DataItem, NewTask, new_function, new_task, run_local
from trackrun.errors import InvalidArgumentError, RunError

# Handlers are module-level so the annotations below are real types (no postponed annotations).


def typed(context, n: int, ratio: float, flag: bool, items: list, opts: dict, name: str = "x", untyped=1):
    return {"n": n, "ratio": ratio, "flag": flag, "items": items, "opts": opts, "name": name,
            "untyped": untyped, "types": [type(v).__name__ for v in (n, ratio, flag, items, opts, name, untyped)]}


def with_defaults(context, a=1, b="x", c: float = 2.5):
    return {"a": a, "b": b, "c": c}


def needs_x(context, x):
    return {"x": x}


def fails(context):
    print("working on it")
    return 1 / 0


def _write(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


# -- handlers in process --------------------------------------------------------------------------
def test_handler_params_by_name_converted_by_type_hints(db):
    params = {"n": "5", "ratio": "0.25", "flag": "false", "items": "[1, 2]", "opts": '{"a": 1}', "untyped": "7"}
    run = run_local(handler=typed, params=params)
    results = db.read_run(run.uid())["status"]["results"]
    assert results["n"] == 5 and results["ratio"] == 0.25 and results["flag"] is False
    assert results["items"] == [1, 2] and results["opts"] == {"a": 1}
    assert results["name"] == "x" and results["untyped"] == "7"  # no hint: left as given
    assert results["types"] == ["int", "float", "bool", "list", "dict", "str", "str"]
    # native values pass through unchanged
    run = run_local(handler=typed, params={"n": 3, "ratio": 1, "flag": "yes", "items": (4,), "opts": {}, "name": 9})
    results = run.status["results"]
    assert (results["n"], results["ratio"], results["flag"], results["items"], results["name"]) == (3, 1.0, True,
                                                                                                   [4], "9")


@pytest.mark.parametrize("params, fragment", [
    ({"n": "five"}, "parameter 'n'"),
    ({"n": 2.5}, "parameter 'n'"),
    ({"flag": "maybe"}, "parameter 'flag'"),
    ({"items": "{not json"}, "parameter 'items'"),
    ({"opts": "[1, 2]"}, "parameter 'opts'"),
])
def test_bad_conversion_records_an_error_run(db, params, fragment):
    base = {"n": 1, "ratio": 1.0, "flag": True, "items": [], "opts": {}}
    with pytest.raises(RunError) as info:
        run_local(handler=typed, params={**base, **params})
    record = db.read_run(info.value.run.uid())
    assert record["status"]["state"] == "error"
    assert fragment in record["status"]["error"]
    assert fragment in str(info.value)


def test_handler_defaults_are_used(db):
    run = run_local(handler=with_defaults, params={"b": "given"})
    assert db.read_run(run.uid())["status"]["results"] == {"a": 1, "b": "given", "c": 2.5}


def test_missing_required_param_is_an_error(db):
    with pytest.raises(RunError, match="needs parameter 'x'"):
        run_local(handler=needs_x)
    (record,) = db.list_runs(name="needs_x")
    assert record["status"]["state"] == "error"
    assert "needs parameter 'x'" in record["status"]["error"]


@pytest.mark.parametrize("value, results", [
    ({"acc": 0.9, "n": 2}, {"acc": 0.9, "n": 2}),
    (42, {"return": 42}),
    ("text", {"return": "text"}),
    ([1, 2], {"return": [1, 2]}),
    (None, {}),
])
def test_return_value_is_recorded(db, value, results):
    def handler():  # no context argument at all
        return value

    run = run_local(handler=handler)
    assert db.read_run(run.uid())["status"]["results"] == results


def test_inputs_as_data_items_paths_and_frames(db, tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "notes.txt").write_text("hello")
    seen = {}

    def handler(context, table: DataItem, notes: str, frame: pd.DataFrame, raw):
        seen.update(table=table, notes=notes, frame=frame, raw=raw)

    inputs = {"table": str(tmp_path / "data.csv"), "notes": str(tmp_path / "notes.txt"),
              "frame": str(tmp_path / "data.csv"), "raw": str(tmp_path / "notes.txt")}
    run_local(handler=handler, inputs=inputs)
    assert isinstance(seen["table"], DataItem) and seen["table"].get() == b"a,b\n1,2\n3,4\n"
    assert isinstance(seen["notes"], str) and Path(seen["notes"]).read_text() == "hello"
    assert seen["frame"]["b"].tolist() == [2, 4]
    assert isinstance(seen["raw"], DataItem)


# -- .py files ------------------------------------------------------------------------------------
SCRIPT = """
    import os
    import sys

    import trackrun

    context = trackrun.get_or_create_ctx("ignored")
    p1 = context.get_param("p1", 1)
    print(f"script output p1={p1} args={sys.argv[1:]}")
    print("to stderr", file=sys.stderr)
    context.log_result("p1_times_2", p1 * 2)
    context.log_result("pid", os.getpid())
    context.log_artifact("data", body=b"from the script")
"""


def test_run_local_command_runs_the_script_in_a_child_process(db, tmp_path, monkeypatch, capsys):
    script = _write(tmp_path / "myscript.py", SCRIPT)
    monkeypatch.chdir(tmp_path)
    run = run_local(command="myscript.py --fast", params={"p1": 4})
    record = db.read_run(run.uid())
    assert record["metadata"]["name"] == "myscript"
    assert record["status"]["state"] == "completed"
    assert record["status"]["results"]["p1_times_2"] == 8
    assert record["status"]["results"]["pid"] != os.getpid()
    assert record["metadata"]["labels"]["kind"] == "local"
    log = db.get_log(run.uid())[1].decode()
    assert "script output p1=4 args=['--fast']" in log and "to stderr" in log
    assert "script output p1=4" in capsys.readouterr().out  # echoed while it ran
    assert run.artifact("data").get() == b"from the script"
    assert script.exists()


def test_run_local_command_with_handler_name(db, tmp_path):
    source = _write(tmp_path / "funcs.py", """
        from __future__ import annotations

        import os


        def train(context, p1: int = 1, tag: str = ""):
            print("training", p1)
            return {"p1": p1, "tag": tag, "pid": os.getpid()}


        if __name__ == "__main__":
            raise SystemExit("the main block must not run")
    """)
    run = run_local(command=str(source), handler="train", params={"p1": "6", "tag": "t"})
    results = db.read_run(run.uid())["status"]["results"]
    assert results == {"p1": 6, "tag": "t", "pid": os.getpid()}  # imported and called in this process
    with pytest.raises(InvalidArgumentError, match="handler 'nope' not found"):
        run_local(command=str(source), handler="nope")


def test_missing_command_file_is_refused_before_anything_is_stored(db, tmp_path):
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        run_local(command=str(tmp_path / "absent.py"))
    assert db.list_runs(project="*", iter=True) == []


def test_job_function_runs_a_task_handler_in_its_own_process(db, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "myfile.py", """
        import os

        from trackrun.artifacts import ChartArtifact


        def handler(context, p1=1):
            print(f"job running p1={p1} key={context.get_secret('ACCESS_KEY')}")
            context.log_result("p1", p1)
            context.log_result("pid", os.getpid())
            context.log_artifact("model", body=b"model bytes", local_path="model.txt")
            chart = ChartArtifact("chart", header=["x", "y"])
            chart.add_row([1, 2])
            context.log_artifact(chart)
    """)
    (tmp_path / "secrets.txt").write_text("ACCESS_KEY=very-secret-key\n")
    from trackrun.runtimes.loader import load_handler

    handler = load_handler(str(tmp_path / "myfile.py"), "handler")
    # the seed's snippet
    task = NewTask(handler=handler, name="demo", params={"p1": 5})
    task.with_secrets("file", "secrets.txt").set_label("type", "demo")
    run = new_function(command="myfile.py", kind="job").run(task)
    capsys.readouterr()
    assert run.logs(watch=True) == "completed"
    shown = capsys.readouterr().out
    assert "job running p1=5 key=***" in shown and "very-secret-key" not in shown
    monkeypatch.setenv("COLUMNS", "300")  # a wide terminal, so the table is not squeezed
    run.show()
    shown = capsys.readouterr().out
    assert "demo" in shown and run.uid() in shown
    assert run.artifact("model").get() == b"model bytes"
    record = db.read_run(run.uid())
    assert record["metadata"]["labels"]["type"] == "demo" and record["metadata"]["labels"]["kind"] == "job"
    assert record["status"]["results"]["p1"] == 5
    assert record["status"]["results"]["pid"] != os.getpid()
    assert record["spec"]["handler"] == "handler"


def test_inline_secrets_reach_a_child_process_but_are_never_stored(db, tmp_path):
    script = _write(tmp_path / "secretive.py", """
        import trackrun

        context = trackrun.get_or_create_ctx("secretive")
        value = context.get_secret("API_TOKEN")
        print("token is", value)
        context.log_result("length", len(value or ""))
    """)
    task = new_task().with_secrets("inline", {"API_TOKEN": "inline-token-0123456789"})
    run = run_local(task, command=str(script))
    record = db.read_run(run.uid())
    assert record["status"]["results"] == {"length": 23}
    assert record["spec"]["secret_sources"] == [{"kind": "inline", "source": ["API_TOKEN"]}]
    log = db.get_log(run.uid())[1].decode()
    assert "token is ***" in log
    from trackrun.schemas import codec

    assert "inline-token-0123456789" not in codec.dumps(record) + log


def test_handler_kind_function(db):
    def add(context, a=1, b=2):
        return {"sum": a + b}

    fn = new_function(name="adder", kind="handler", handler=add)
    run = fn.run(params={"a": 10})
    assert run.output("sum") == 12
    record = db.read_run(run.uid())
    assert record["metadata"]["name"] == "add"
    assert record["metadata"]["labels"]["kind"] == "handler"
    assert fn.run(params={"b": 5}, name="named").output("sum") == 6
    assert [r["metadata"]["name"] for r in db.list_runs()] == ["named", "add"]


@pytest.mark.parametrize("kind, fragment", [("spark", "not available"), ("bogus", "unknown function kind")])
def test_unknown_kind_is_refused(kind, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        new_function(kind=kind, command="x.py")


# -- the run object -------------------------------------------------------------------------------
def test_run_object_api(db, capsys, monkeypatch):
    def handler(context, p=1):
        print("printed by the handler")
        context.log_result("acc", 0.75)
        context.log_artifact("report", body=b"<b>hi</b>", format="html")
        context.log_dataset("frame", df=pd.DataFrame({"a": [1, 2]}))

    run = run_local(handler=handler, name="objrun", params={"p": 3})
    uid = run.uid()
    assert len(uid) == 32 and run.state() == "completed"
    outputs = run.outputs
    assert outputs["acc"] == 0.75
    assert outputs["frame"].startswith("store://") and outputs["report"].endswith(".html")
    assert run.output("acc") == 0.75 and run.output("nothing") is None
    assert run.output("frame") == outputs["frame"]
    assert run.artifact("report").get() == b"<b>hi</b>"
    assert run.artifact("frame").as_df()["a"].tolist() == [1, 2]
    assert run.artifact("nothing") is None
    parsed = yaml.safe_load(run.to_yaml())
    assert parsed["metadata"]["uid"] == uid and parsed["status"]["results"]["acc"] == 0.75
    as_dict = run.to_dict()
    assert as_dict == db.read_run(uid)
    as_dict["metadata"]["uid"] = "changed"
    assert run.uid() == uid  # a copy
    capsys.readouterr()
    assert run.logs(watch=False) == "completed"
    out = capsys.readouterr().out
    assert "printed by the handler" in out and "completed" in out
    monkeypatch.setenv("COLUMNS", "300")
    run.show()
    shown = capsys.readouterr().out
    assert "objrun" in shown and uid in shown and "0.75" in shown


def test_failing_handler_raises_run_error_and_records_the_traceback(db):
    with pytest.raises(RunError, match="ZeroDivisionError") as info:
        run_local(handler=fails)
    run = info.value.run
    assert run.state() == "error"
    record = db.read_run(run.uid())
    assert record["status"]["state"] == "error"
    assert record["status"]["error"] == "ZeroDivisionError: division by zero"
    assert "return 1 / 0" in record["status"]["traceback"]
    assert record["status"].get("end_time")
    log = db.get_log(run.uid())[1].decode()
    assert "working on it" in log and "Traceback" in log


def test_failing_script_records_the_exit_and_the_error(db, tmp_path):
    script = _write(tmp_path / "bad.py", """
        import trackrun

        context = trackrun.get_or_create_ctx("bad")
        raise KeyError("missing column")
    """)
    with pytest.raises(RunError):
        run_local(command=str(script))
    (record,) = db.list_runs(name="bad")
    assert record["status"]["state"] == "error"
    assert "missing column" in record["status"]["error"]
    assert "KeyError" in record["status"]["traceback"]


def test_script_exiting_with_a_code_is_an_error(db, tmp_path):
    script = _write(tmp_path / "exits.py", """
        import sys
        print("leaving early")
        sys.exit(3)
    """)
    with pytest.raises(RunError, match="code 3"):
        run_local(command=str(script))
    (record,) = db.list_runs(name="exits")
    assert record["status"]["state"] == "error"
    assert "leaving early" in record["status"]["error"]


# -- artifact paths -------------------------------------------------------------------------------
def _log_one(context):
    context.log_artifact("thing", body=b"thing body")


def test_artifact_path_templates_are_filled(db, tmp_path):
    template = str(tmp_path / "arts" / "{{run.project}}" / "{{ run.uid }}")
    run = run_local(handler=_log_one, artifact_path=template, project="proj-a")
    expected = tmp_path / "arts" / "proj-a" / run.uid()
    assert db.read_run(run.uid(), "proj-a")["spec"]["output_path"] == str(expected)
    target = Path(run.outputs["thing"])
    assert target.is_relative_to(expected) and target.read_bytes() == b"thing body"


def test_unknown_template_is_refused_before_anything_is_stored(db, tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"run\.foo"):
        run_local(handler=_log_one, artifact_path=str(tmp_path / "arts" / "{{run.foo}}"))
    assert db.list_runs(project="*", iter=True) == []
    assert not (tmp_path / "arts").exists()


def test_relative_artifact_path_is_made_absolute(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_local(handler=_log_one, artifact_path="rel/arts")
    assert db.read_run(run.uid())["spec"]["output_path"] == str(tmp_path / "rel" / "arts")
    monkeypatch.chdir("/")
    assert Path(run.outputs["thing"]).read_bytes() == b"thing body"
    assert Path(run.outputs["thing"]).is_relative_to(tmp_path / "rel" / "arts")


def test_default_artifact_path_is_beside_the_store(db, dbpath):
    run = run_local(handler=_log_one)
    assert Path(run.outputs["thing"]).is_relative_to(dbpath / "artifacts" / "default")


def test_new_task_artifact_path_and_task_params(db, tmp_path):
    task = new_task(name="from-task", params={"a": 5}, artifact_path=str(tmp_path / "out"), handler=with_defaults)
    run = run_local(task)
    assert run.status["results"] == {"a": 5, "b": "x", "c": 2.5}
    assert db.read_run(run.uid())["spec"]["output_path"] == str(tmp_path / "out")
    assert db.read_run(run.uid())["metadata"]["name"] == "from-task"


# -- the seed's training.py -----------------------------------------------------------------------
TRAINING = (Path(__file__).resolve().parents[1] / "examples" / "training.py").read_text()


def test_seed_training_example_end_to_end(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "training.py", TRAINING)
    (tmp_path / "infile.txt").write_text("the input file\n")
    (tmp_path / "secrets.txt").write_text("ACCESS_KEY=seed-access-key-42\n")
    task = new_task(params={"p1": 5}).with_secrets("file", "secrets.txt")
    run = run_local(task, command="training.py")
    assert run.state() == "completed"
    record = db.read_run(run.uid())
    assert record["status"]["results"] == {"accuracy": 10, "loss": 15}
    assert record["spec"]["parameters"] == {"p1": 5, "p2": "a-string"}
    assert record["metadata"]["labels"]["framework"] == "sklearn"
    assert record["spec"]["inputs"]["infile.txt"] == str(tmp_path / "infile.txt")
    assert sorted(a["key"] for a in record["status"]["artifacts"]) == ["chart", "html_result", "model", "mydf"]
    assert run.artifact("model").get() == b"abc is 123"
    assert run.artifact("html_result").get() == b"<b> Some HTML <b>"
    assert b"Epoch" in run.artifact("chart").get()
    df = run.artifact("mydf").as_df()
    assert df.shape == (5, 4) and df["age"].tolist() == [42, 52, 36, 24, 73]
    model = db.read_artifact("training_model")
    assert model["labels"] == {"framework": "xgboost"} and Path(model["target_path"]).name == "model.txt"
    dataset = db.read_artifact("training_mydf")
    assert dataset["kind"] == "dataset" and dataset["stats"]["age"]["mean"] == pytest.approx(45.4)
    chart = db.read_artifact("training_chart")
    assert chart["kind"] == "chart" and chart["labels"] == {"type": "roc"} and len(chart["rows"]) == 7
    log = db.get_log(run.uid())[1].decode()
    assert "accesskey = ***" in log and "seed-access-key-42" not in log
    assert "the input file" in log and "Params: p1=5, p2=a-string" in log
    assert trackrun.get_run_db() is db
