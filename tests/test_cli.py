"""The ``trackrun`` command line, driven through real subprocesses (``python -m trackrun`` and the installed
``trackrun`` script), each test with its own run database in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

SECRET = "s3cr3t-Value-42"
SCRIPT = Path(sys.executable).with_name("trackrun")

TRAINING = (Path(__file__).resolve().parents[1] / "examples" / "training.py").read_text()

# Light files (no pandas) keep most tests fast.
HANDLERS = '''
import math


def train(context, p1: int = 1, p2=0):
    print(f"training p1={p1} p2={p2}")
    context.log_result("accuracy", p1 * 2 + p2)
    context.log_result("loss", p1 * 3)


def odd(context):
    context.log_result("nan", math.nan)
    context.log_result("inf", math.inf)


def bad(context):
    raise ValueError("boom in handler")
'''

SCRIPT_RUN = '''
import sys
from trackrun import get_or_create_ctx

ctx = get_or_create_ctx("script")
p1 = ctx.get_param("p1", 1)
print("script p1", p1, "args", sys.argv[1:])
ctx.log_result("double", p1 * 2)
'''

FAILING = '''
from trackrun import get_or_create_ctx

get_or_create_ctx("failing")
print("about to fail")
raise RuntimeError("kaboom from script")
'''

EXITING = '''
import sys
print("leaving with 3")
sys.exit(3)
'''

SLOW = '''
import time
from trackrun import get_or_create_ctx

ctx = get_or_create_ctx("slow")
for i in range(4):
    print(f"tick {i}", flush=True)
    time.sleep(0.6)
ctx.log_result("ticks", 4)
'''


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(tmp_path: Path, dbpath: Path):
    """Run ``python -m trackrun ARGS`` in tmp_path with this test's run database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKRUN_")}
    env.update(TRACKRUN_DBPATH=str(dbpath), TRACKRUN_HOME=str(tmp_path / "home"))
    env.pop("COLUMNS", None)

    def run(*args: str, exe: list[str] | None = None, extra_env: dict | None = None, timeout: float = 60) -> Result:
        proc = subprocess.run([*(exe or [sys.executable, "-m", "trackrun"]), *args], cwd=tmp_path,
                              env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    run.env = env  # type: ignore[attr-defined]
    return run


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def runs_json(cli, *args: str) -> list[dict]:
    result = cli("get", "runs", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def only_run(cli) -> dict:
    runs = runs_json(cli)
    assert len(runs) == 1, runs
    return runs[0]


# -- the command and its fast paths -----------------------------------------------------------------------

def test_help_is_fast_and_lists_every_command(cli):
    start = time.monotonic()
    result = cli("--help")
    elapsed = time.monotonic() - start
    assert result.code == 0, result.err
    for command in ("run", "get", "logs", "delete", "config", "version"):
        assert f"  {command} " in result.out
    assert elapsed < 3, f"trackrun --help took {elapsed:.2f} s"


def test_bare_group_prints_help_and_unknown_command_is_one_line(cli):
    bare = cli()
    assert bare.code == 0 and "Commands:" in bare.out
    unknown = cli("get", "widgets")
    assert unknown.code == 2
    assert unknown.err.strip().splitlines() == ["error: No such command 'widgets'. (see 'trackrun get --help')"]


def test_cli_module_imports_nothing_heavy(cli):
    probe = ("import sys, trackrun.cli.main; heavy = ('sqlalchemy', 'rich', 'yaml', 'pandas', 'fsspec', "
             "'alembic'); print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=cli.env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_version_through_the_installed_script(cli):
    from trackrun import __version__

    result = cli("version", exe=[str(SCRIPT)])
    assert result.code == 0, result.err
    assert result.out.strip() == f"trackrun {__version__}"


def test_config_prints_settings_without_secrets(cli, dbpath):
    result = cli("config", extra_env={"TRACKRUN_HTTPDB__TOKEN": SECRET,
                                      "TRACKRUN_HTTPDB__DSN": f"postgresql://bob:{SECRET}@db/x"})
    assert result.code == 0, result.err
    assert SECRET not in result.out
    shown = yaml.safe_load(result.out)
    assert shown["settings"]["httpdb"]["token"] == "***"
    assert shown["settings"]["httpdb"]["dsn"] == "postgresql://bob:***@db/x"
    assert shown["settings"]["dbpath"] == str(dbpath)
    assert shown["resolved"]["db_url"] == f"sqlite:///{dbpath}/trackrun.db"
    assert shown["resolved"]["artifact_root"] == str(dbpath / "artifacts")


def test_global_db_option_overrides_the_environment(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    other = tmp_path / "other-db"
    result = cli("--db", str(other), "run", "--handler", "train", "h.py")
    assert result.code == 0, result.err
    assert runs_json(cli) == []
    assert len(json.loads(cli("--db", str(other), "get", "runs", "--json").out)) == 1
    assert (other / "trackrun.db").exists()


# -- trackrun run ------------------------------------------------------------------------------------------

def test_run_training_script_end_to_end(cli, tmp_path):
    write(tmp_path, "training.py", TRAINING)
    (tmp_path / "infile.txt").write_text("some input text\n")
    (tmp_path / "secrets.txt").write_text(f"ACCESS_KEY={SECRET}\n")
    result = cli("run", "--name", "train", "-p", "p1=5", "-s", "file=secrets.txt", "-i", "infile.txt=infile.txt",
                 "training.py")
    assert result.code == 0, result.err
    run = only_run(cli)
    uid = run["metadata"]["uid"]
    assert run["metadata"]["name"] == "train"
    assert run["status"]["state"] == "completed"
    assert run["status"]["results"] == {"accuracy": 10, "loss": 15}
    assert run["spec"]["parameters"]["p1"] == 5
    assert run["spec"]["inputs"]["infile.txt"] == str(tmp_path / "infile.txt")
    assert {a["key"] for a in run["status"]["artifacts"]} == {"model", "html_result", "chart", "mydf"}
    # the summary names the run and how to see it again
    assert uid in result.out and "completed" in result.out
    assert f"trackrun logs {uid}" in result.out and "accuracy=10" in result.out
    # the script printed the secret; neither the terminal echo nor the stored log holds it
    assert SECRET not in result.out
    logs = cli("logs", uid)
    assert logs.code == 0, logs.err
    assert "accesskey = ***" in logs.out
    assert "some input text" in logs.out
    assert SECRET not in logs.out
    assert SECRET not in json.dumps(run)


def test_run_handler_of_a_file_in_process(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    result = cli("run", "--handler", "train", "-p", "p1=3", "-p", "p2=0.5", "--label", "team=vision", "h.py")
    assert result.code == 0, result.err
    assert "training p1=3 p2=0.5" in result.out
    run = only_run(cli)
    assert run["metadata"]["name"] == "train"
    assert run["metadata"]["labels"]["team"] == "vision"
    assert run["status"]["results"] == {"accuracy": 6.5, "loss": 9}


@pytest.mark.parametrize(("text", "expected"), [
    ("5", 5), ("2.5", 2.5), ("+7", 7), ("07", 7), ("true", True), ("False", False), ("[1, 2]", [1, 2]),
    ('{"a": 1}', {"a": 1}), ("hello", "hello"), ('"5"', "5"), ("", ""), ("a=b", "a=b"),
])
def test_param_values_are_read_as_json_then_number_then_bool(text, expected):
    from trackrun.cli.parsing import parse_params

    value = parse_params((f"k={text}",))["k"]
    assert value == expected and type(value) is type(expected)


def test_script_gets_params_and_its_own_args(cli, tmp_path):
    write(tmp_path, "s.py", SCRIPT_RUN)
    result = cli("run", "-p", "p1=21", "s.py", "--epochs", "3")
    assert result.code == 0, result.err
    assert "script p1 21 args ['--epochs', '3']" in result.out
    assert only_run(cli)["status"]["results"] == {"double": 42}


def test_hyper_grid_with_selector_records_best_iteration(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    result = cli("run", "--handler", "train", "-x", "p1=[3,7,5]", "-x", "p2=[1,2]", "--selector", "max.accuracy",
                 "h.py")
    assert result.code == 0, result.err
    parent = only_run(cli)  # without --iter only the parent is listed
    uid = parent["metadata"]["uid"]
    assert parent["status"]["state"] == "completed"
    # grid order: p1 varies fastest, so (p1=7, p2=2) is iteration 5 with accuracy 16
    assert parent["status"]["results"]["best_iteration"] == 5
    assert parent["status"]["results"]["accuracy"] == 16
    every = runs_json(cli, "--iter", "--uid", uid)
    assert sorted(r["metadata"]["iteration"] for r in every) == [0, 1, 2, 3, 4, 5, 6]
    table = cli("get", "runs", "--iter", "--sort-by", "-results.accuracy")
    assert table.code == 0, table.err
    rows = [line for line in table.out.splitlines() if uid in line]
    assert len(rows) == 7
    assert "│ 5 " in rows[0] or "│ 0 " in rows[0]  # the best iteration and its parent sort first
    fifth = runs_json(cli, "--iter", "5")
    assert [(r["metadata"]["uid"], r["metadata"]["iteration"]) for r in fifth] == [(uid, 5)]
    one = cli("get", "run", uid, "--iter", "5", "--json")
    assert json.loads(one.out)["spec"]["parameters"] == {"p1": 7, "p2": 2}
    detail = cli("get", "run", uid)
    assert "iterations" in detail.out and "best_iteration=5" in detail.out


def test_param_file_csv_runs_each_row_in_parallel(cli, tmp_path):
    write(tmp_path, "s.py", SCRIPT_RUN)
    (tmp_path / "params.csv").write_text("p1\n1\n2\n3\n")
    start = time.monotonic()
    result = cli("run", "--param-file", "params.csv", "--parallel", "2", "--selector", "double", "s.py")
    assert result.code == 0, result.err
    elapsed = time.monotonic() - start
    every = runs_json(cli, "--iter")
    children = sorted((r for r in every if r["metadata"]["iteration"]), key=lambda r: r["metadata"]["iteration"])
    assert [c["spec"]["parameters"]["p1"] for c in children] == [1, 2, 3]
    assert [c["status"]["results"]["double"] for c in children] == [2, 4, 6]
    assert all(c["status"]["state"] == "completed" for c in children)
    parent = next(r for r in every if r["metadata"]["iteration"] == 0)
    assert parent["spec"]["hyper_param_options"]["parallel_runs"] == 2
    assert parent["status"]["results"]["best_iteration"] == 3
    assert elapsed < 30


def test_dump_prints_the_final_run_as_yaml_only(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    result = cli("run", "--dump", "--handler", "train", "-p", "p1=2", "h.py")
    assert result.code == 0, result.err
    dumped = yaml.safe_load(result.out)
    assert dumped["status"]["state"] == "completed"
    assert dumped["status"]["results"] == {"accuracy": 4, "loss": 6}
    assert dumped["metadata"]["uid"] == only_run(cli)["metadata"]["uid"]
    assert "training p1=2" in result.err  # the run's own output and the summary go to stderr


def test_no_watch_hides_the_output_but_logs_it(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    result = cli("run", "--no-watch", "--handler", "train", "-p", "p1=4", "h.py")
    assert result.code == 0, result.err
    assert "training p1=4" not in result.out
    uid = only_run(cli)["metadata"]["uid"]
    assert "training p1=4" in cli("logs", uid).out


def test_failing_script_exits_1_and_records_its_traceback(cli, tmp_path):
    write(tmp_path, "fail.py", FAILING)
    result = cli("run", "fail.py")
    assert result.code == 1
    assert "run failed: RuntimeError: kaboom from script" in result.err
    run = only_run(cli)
    assert run["status"]["state"] == "error"
    assert run["status"]["error"] == "RuntimeError: kaboom from script"
    assert 'raise RuntimeError("kaboom from script")' in run["status"]["traceback"]
    assert "about to fail" in cli("logs", run["metadata"]["uid"]).out


def test_script_exit_code_is_recorded(cli, tmp_path):
    write(tmp_path, "exit3.py", EXITING)
    result = cli("run", "exit3.py")
    assert result.code == 1
    assert "exited with code 3" in result.err
    run = only_run(cli)
    assert run["status"]["state"] == "error" and "exited with code 3" in run["status"]["error"]
    assert "Traceback" not in result.err


def test_failing_handler_exits_1_with_state_error(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    result = cli("run", "--handler", "bad", "h.py")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == "run failed: ValueError: boom in handler"
    run = only_run(cli)
    assert run["status"]["state"] == "error"
    assert "boom in handler" in run["status"]["traceback"]


BAD_INPUTS = {
    "unknown option": (["--bogus"], "--bogus"),
    "param without =": (["-p", "p1"], "-p 'p1'"),
    "hyperparam not a list": (["-x", "p1=3"], "JSON list"),
    "hyperparam not JSON": (["-x", "p1=[1,2"], "JSON list"),
    "missing source": (["--handler", "train", "missing.py"], "missing.py"),
    "unknown handler": (["--handler", "nosuch"], "nosuch"),
    "malformed param file": (["--param-file", "bad.csv"], "bad.csv"),
    "missing param file": (["--param-file", "absent.csv"], "absent.csv"),
    "bad selector": (["-x", "p1=[1,2]", "--selector", "max."], "selector"),
    "missing secrets file": (["-s", "file=nosecrets.txt"], "nosecrets.txt"),
    "unknown secrets kind": (["-s", "vault=x"], "vault"),
    "secrets without =": (["-s", "file"], "-s 'file'"),
    "label without =": (["--label", "team"], "--label 'team'"),
    "input without =": (["-i", "data"], "-i 'data'"),
    "unknown strategy": (["-x", "p1=[1]", "--strategy", "best"], "strategy"),
    "max iterations without random": (["-x", "p1=[1,2]", "--max-iterations", "3"], "random"),
    "unsafe stop condition": (["-x", "p1=[1]", "--stop-condition", "__import__('os')"], "stop condition"),
    "hyper and param file": (["-x", "p1=[1]", "--param-file", "good.csv"], "not both"),
    "bad project": (["--project", "a/b"], "a/b"),
    "bad run name": (["--name", "a/b"], "a/b"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_stores_nothing(cli, tmp_path, case):
    args, mention = BAD_INPUTS[case]
    write(tmp_path, "h.py", HANDLERS)
    (tmp_path / "bad.csv").write_text("p1,p2\n1,2,3\n")
    (tmp_path / "good.csv").write_text("p1\n1\n")
    source = [] if args[-1].endswith(".py") else ["h.py"]
    result = cli("run", *args, *source)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ") and mention in lines[0]
    assert "Traceback" not in result.err + result.out
    assert runs_json(cli, "--project", "*") == []


def test_import_error_in_source_is_bad_input(cli, tmp_path):
    write(tmp_path, "broken.py", "import no_such_module_here\n")
    result = cli("run", "--handler", "train", "broken.py")
    assert result.code == 2
    assert "no_such_module_here" in result.err and "Traceback" not in result.err
    assert runs_json(cli, "--project", "*") == []


# -- trackrun get --------------------------------------------------------------------------------------------

def test_get_runs_table_json_filters_and_nan(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    assert cli("run", "--handler", "train", "--label", "team=a", "-p", "p1=1", "h.py").code == 0
    assert cli("run", "--handler", "odd", "--label", "team=b", "--project", "other", "h.py").code == 0
    table = cli("get", "runs")
    assert table.code == 0, table.err
    assert "train" in table.out and "accuracy=2" in table.out and "odd" not in table.out
    for header in ("name", "uid", "iter", "start", "state", "parameters", "results"):
        assert header in table.out.splitlines()[1]
    everywhere = cli("get", "run", "--project", "*")  # singular spelling lists too
    assert "odd" in everywhere.out and "inf=Infinity" in everywhere.out and "nan=NaN" in everywhere.out
    raw = cli("get", "runs", "--project", "*", "--label", "team=b", "--json").out
    assert '"nan": NaN' in raw and '"inf": Infinity' in raw
    odd = json.loads(raw)
    assert [r["metadata"]["name"] for r in odd] == ["odd"]
    assert runs_json(cli, "--project", "*", "--state", "error") == []
    assert len(runs_json(cli, "--project", "*", "--last", "1")) == 1
    assert runs_json(cli, "--name", "nosuch") == []
    uid = odd[0]["metadata"]["uid"]
    as_yaml = yaml.safe_load(cli("get", "run", uid, "--yaml").out)  # found in its project without --project
    assert as_yaml["metadata"]["project"] == "other"
    assert json.loads(cli("get", "runs", uid, "--json").out)["metadata"]["uid"] == uid


def test_get_run_unknown_uid_exits_2(cli):
    result = cli("get", "run", "0123456789abcdef")
    assert result.code == 2
    assert result.err.startswith("error: no run with uid '0123456789abcdef'")


def test_get_artifacts_and_projects(cli, tmp_path):
    write(tmp_path, "training.py", TRAINING)
    (tmp_path / "infile.txt").write_text("x\n")
    assert cli("run", "--project", "proj1", "training.py").code == 0
    table = cli("get", "artifacts", "--project", "proj1")
    assert table.code == 0, table.err
    for header in ("key", "kind", "iter", "tags", "hash", "size", "path", "uri"):
        assert header in table.out.splitlines()[1]
    assert "training_model" in table.out and "latest" in table.out and "store://" in table.out
    arts = json.loads(cli("get", "art", "--project", "proj1", "--json").out)
    assert {a["kind"] for a in arts} >= {"dataset", "chart"}
    models = json.loads(cli("get", "artifact", "--project", "proj1", "--kind", "dataset", "--json").out)
    assert [a["key"] for a in models] == ["training_mydf"]
    assert cli("get", "artifacts", "--json").out.strip() == "[]"  # the default project holds none
    projects = json.loads(cli("get", "projects", "--json").out)
    proj1 = next(p for p in projects if p["name"] == "proj1")
    assert proj1["runs"] == 1 and proj1["artifacts"] == 4
    listing = cli("get", "project")
    assert "proj1" in listing.out and "artifacts" in listing.out


# -- trackrun logs -------------------------------------------------------------------------------------------

def test_logs_of_a_finished_run_with_offset_and_watch(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    assert cli("run", "--handler", "train", "-p", "p1=9", "h.py").code == 0
    uid = only_run(cli)["metadata"]["uid"]
    full = cli("logs", uid)
    assert full.code == 0 and "training p1=9 p2=0" in full.out and "final state" not in full.out
    assert cli("logs", uid, "--offset", "9").out == full.out[9:]
    watched = cli("logs", "--watch", uid)
    assert watched.code == 0
    assert watched.out == full.out + "final state: completed\n"


def test_logs_watch_follows_a_running_run(cli, tmp_path):
    write(tmp_path, "slow.py", SLOW)
    env = {**cli.env}
    launcher = subprocess.Popen([sys.executable, "-m", "trackrun", "run", "slow.py"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        runs: list[dict] = []
        while time.monotonic() < deadline and not runs:
            runs = [r for r in runs_json(cli) if r["status"]["state"] == "running"]
            time.sleep(0.1)
        assert runs, "the run never showed up as running"
        watched = cli("logs", "--watch", runs[0]["metadata"]["uid"])
        assert watched.code == 0, watched.err
        assert [line for line in watched.out.splitlines() if line.startswith("tick")] == [
            "tick 0", "tick 1", "tick 2", "tick 3"]
        assert watched.out.endswith("final state: completed\n")
    finally:
        launcher.wait(timeout=30)
    assert launcher.returncode == 0


def test_logs_unknown_uid_exits_2(cli):
    result = cli("logs", "feedface")
    assert result.code == 2
    assert "feedface" in result.err and len(result.err.strip().splitlines()) == 1


# -- trackrun delete -----------------------------------------------------------------------------------------

def test_delete_runs_needs_a_filter(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    for name, team in (("one", "a"), ("two", "a"), ("three", "b")):
        assert cli("run", "--handler", "train", "--name", name, "--label", f"team={team}", "h.py").code == 0
    refused = cli("delete", "runs")
    assert refused.code == 2 and "--all" in refused.err
    assert len(runs_json(cli)) == 3
    by_label = cli("delete", "runs", "--label", "team=a")
    assert by_label.code == 0 and "deleted 2 runs" in by_label.out
    assert [r["metadata"]["name"] for r in runs_json(cli)] == ["three"]
    uid = runs_json(cli)[0]["metadata"]["uid"]
    by_uid = cli("delete", "run", "--uid", uid)
    assert by_uid.code == 0 and "deleted 1 run" in by_uid.out
    assert runs_json(cli) == []


def test_delete_all_runs_and_by_state(cli, tmp_path):
    write(tmp_path, "h.py", HANDLERS)
    assert cli("run", "--handler", "train", "h.py").code == 0
    assert cli("run", "--handler", "bad", "h.py").code == 1
    errors = cli("delete", "runs", "--state", "error")
    assert "deleted 1 run" in errors.out
    assert [r["status"]["state"] for r in runs_json(cli)] == ["completed"]
    old = cli("delete", "runs", "--days-ago", "1")
    assert old.code == 0 and "deleted 0 runs" in old.out
    everything = cli("delete", "runs", "--all", "--yes")
    assert everything.code == 0 and "deleted 1 run" in everything.out
    assert runs_json(cli) == []


def test_delete_artifacts(cli, tmp_path):
    write(tmp_path, "training.py", TRAINING)
    (tmp_path / "infile.txt").write_text("x\n")
    assert cli("run", "training.py").code == 0
    refused = cli("delete", "artifacts")
    assert refused.code == 2 and "--all" in refused.err
    one = cli("delete", "artifacts", "--name", "=training_model")
    assert one.code == 0 and "deleted 1 artifact" in one.out
    keys = {a["key"] for a in json.loads(cli("get", "artifacts", "--json").out)}
    assert keys == {"training_mydf", "training_chart", "training_html_result"}
    rest = cli("delete", "art", "--all")
    assert "deleted 3 artifacts" in rest.out
    assert cli("get", "artifacts", "--json").out.strip() == "[]"


# -- what the CLI relies on in the runtime -------------------------------------------------------------------

@pytest.mark.parametrize("how", ["unknown handler", "malformed param file", "missing source"])
def test_runtime_rejects_bad_input_before_storing_a_run(tmp_path, db, how):
    """Without the CLI's own checks the runtime still fails before the first record is written."""
    from trackrun import new_function, new_task
    from trackrun.errors import InvalidArgumentError

    write(tmp_path, "h.py", HANDLERS)
    (tmp_path / "bad.csv").write_text("p1,p2\n1,2,3\n")
    source, handler, task = str(tmp_path / "h.py"), "train", new_task()
    if how == "unknown handler":
        handler = "nosuch"
    elif how == "malformed param file":
        task = new_task().with_param_file(str(tmp_path / "bad.csv"))
    else:
        source = str(tmp_path / "absent.py")
    with pytest.raises(InvalidArgumentError):
        new_function(kind="local", command=source).run(task, handler=handler)
    assert list(db.list_runs(project="*", iter=True)) == []
