"""Behaviour a first user tripped over, fixed and kept fixed."""

from __future__ import annotations

import pytest

from trackrun import new_task, run_local
from trackrun.errors import RunError, StoreUnavailableError

SECRET = "Sup3r-Secret-Value"


def test_secrets_are_masked_on_the_terminal_of_an_in_process_handler(capsys):
    def handler(context):
        print("the key is", context.get_secret("KEY"))
        context.logger.info(f"logger says {context.get_secret('KEY')}")

    run_local(new_task(handler=handler).with_secrets("inline", {"KEY": SECRET}))
    out = capsys.readouterr()
    assert "the key is ***" in out.out
    assert SECRET not in out.out + out.err


@pytest.mark.parametrize(("code", "state"), [(3, "error"), (0, "completed"), (None, "completed")])
def test_sys_exit_in_a_handler_ends_the_run_not_the_launcher(db, code, state):
    import sys

    def handler(context):
        context.log_result("before", 1)
        sys.exit(code)

    if state == "error":
        with pytest.raises(RunError, match=r"sys.exit\(3\)"):
            run_local(new_task(handler=handler, name="exits"))
    else:
        run_local(new_task(handler=handler, name="exits"))
    (run,) = db.list_runs(name="exits")
    assert run["status"]["state"] == state
    assert run["status"]["results"] == {"before": 1}


def test_latest_artifact_of_a_sweep_is_the_best_iterations(db):
    def handler(context, p=0):
        context.log_result("score", -abs(p - 2))  # p=2 is the best, and not the last iteration
        context.log_artifact("model", body=f"model-{p}".encode())

    run = run_local(new_task(handler=handler, name="sw").with_hyper_params({"p": [1, 2, 3, 4]}, "max.score"))
    assert run.status["results"]["best_iteration"] == 2
    latest = db.read_artifact("sw_model")
    assert latest["iter"] == 2
    assert run.artifact("model").get() == b"model-2"


def test_a_file_that_is_not_a_database_gives_one_clear_error(tmp_path):
    from trackrun.db import get_run_db

    bad = tmp_path / "junk"
    bad.mkdir()
    (bad / "trackrun.db").write_text("not sqlite")
    with pytest.raises(StoreUnavailableError, match="cannot open the run database .*file is not a database"):
        get_run_db(str(bad))


def test_table_cells_are_cut_so_a_huge_value_lists_quickly():
    from trackrun.cli.render import CELL_LIMIT, format_pairs, format_value

    assert len(format_value("x" * 10_000_000)) == CELL_LIMIT
    assert len(format_value(list(range(1_000_000)))) <= CELL_LIMIT
    assert format_pairs({"a": float("nan"), "b": 2}) == "a=NaN, b=2"


def test_ctrl_c_to_trackrun_run_exits_130_and_records_the_run_aborted(tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "slow.py"
    script.write_text("import time\nfrom trackrun import get_or_create_ctx\nget_or_create_ctx('slow')\n"
                      "print('started', flush=True)\ntime.sleep(60)\n")
    env = dict(os.environ, TRACKRUN_DBPATH=str(tmp_path / "db"))
    proc = subprocess.Popen([sys.executable, "-m", "trackrun", "run", "--name", "slow", str(script)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "started" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    listed = subprocess.run([sys.executable, "-m", "trackrun", "get", "runs", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)
    (run,) = json.loads(listed.stdout)
    assert run["status"]["state"] == "aborted"


@pytest.mark.parametrize("kwargs", [{"artifact_path": "/tmp/out/{{run.uid"}, {"workdir": "/no/such/dir"}])
def test_bad_paths_are_refused_before_anything_is_stored(db, kwargs):
    from trackrun.errors import InvalidArgumentError

    def handler(context):
        context.log_result("x", 1)

    with pytest.raises(InvalidArgumentError):
        run_local(new_task(handler=handler), **kwargs)
    assert db.list_runs(project="*") == []
