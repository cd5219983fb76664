"""A process killed while its run is going on: the run is not left `running` forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

STANDALONE = """
    import json
    import os
    import sys
    import time

    import trackrun

    context = trackrun.get_or_create_ctx("doomed")
    context.log_result("progress", 1, commit=True)
    with open(sys.argv[1], "w") as fh:
        json.dump({"uid": context.uid, "pid": os.getpid()}, fh)
    time.sleep(120)
"""

IN_PROCESS_HANDLER = """
    import json
    import os
    import sys
    import time

    import trackrun


    def slow(context):
        context.log_result("progress", 1, commit=True)
        with open(sys.argv[1], "w") as fh:
            json.dump({"uid": context.uid, "pid": os.getpid()}, fh)
        time.sleep(120)


    trackrun.run_local(handler=slow, name="doomed")
"""

CHILD = """
    import json
    import os
    import sys
    import time

    import trackrun

    context = trackrun.get_or_create_ctx("child")
    print("child started", flush=True)
    with open(sys.argv[1], "w") as fh:
        json.dump({"uid": context.uid, "pid": os.getpid()}, fh)
    time.sleep(120)
"""

LAUNCHER = """
    import sys

    import trackrun

    try:
        trackrun.run_local(command=sys.argv[1], args=[sys.argv[2]], name="launched")
    except trackrun.RunError as exc:
        print("launcher saw:", exc)
        sys.exit(7)
"""


def _start(tmp_path: Path, name: str, body: str, *args: str) -> subprocess.Popen:
    script = tmp_path / name
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path)


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text():
            return json.loads(marker.read_text())
        if proc.poll() is not None:
            raise AssertionError(f"the process ended early: {proc.stdout.read()}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the run did not start in time")


@pytest.mark.parametrize("script", [STANDALONE, IN_PROCESS_HANDLER], ids=["standalone", "run_local-handler"])
@pytest.mark.parametrize("reader", ["read_run", "list_runs"])
def test_killed_run_is_marked_aborted(db, tmp_path, script, reader):
    marker = tmp_path / "started.json"
    proc = _start(tmp_path, "doomed.py", script, str(marker))
    started = _wait_for(marker, proc)
    assert db.read_run(started["uid"])["status"]["state"] == "running"  # alive: left alone
    os.kill(started["pid"], signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    if reader == "read_run":
        record = db.read_run(started["uid"])
    else:
        (record,) = db.list_runs(name="doomed")
        assert record["metadata"]["uid"] == started["uid"]
    status = record["status"]
    assert status["state"] == "aborted"
    assert f"pid {started['pid']}" in status["error"] and "killed or crashed" in status["error"]
    assert status["results"] == {"progress": 1}
    assert db.list_runs(state="running") == []
    assert [r["metadata"]["uid"] for r in db.list_runs(state="aborted")] == [started["uid"]]


def test_unreaped_killed_process_counts_as_dead(db, tmp_path):
    marker = tmp_path / "started.json"
    proc = _start(tmp_path, "doomed.py", STANDALONE, str(marker))
    started = _wait_for(marker, proc)
    os.kill(started["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and db.read_run(started["uid"])["status"]["state"] == "running":
        time.sleep(0.05)  # not waited for yet: a zombie until we reap it
    try:
        assert db.read_run(started["uid"])["status"]["state"] == "aborted"
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()


def test_killed_script_child_is_recorded_as_error_with_the_signal(db, tmp_path):
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent(CHILD))
    marker = tmp_path / "child.started"
    launcher = _start(tmp_path, "launcher.py", LAUNCHER, str(child), str(marker))
    started = _wait_for(marker, launcher)
    assert started["pid"] != launcher.pid
    os.kill(started["pid"], signal.SIGKILL)
    out, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 7, out
    assert "SIGKILL" in out
    record = db.read_run(started["uid"])
    assert record["metadata"]["name"] == "launched"
    status = record["status"]
    assert status["state"] == "error"
    assert "SIGKILL" in status["error"] and "child.py" in status["error"]
    assert "child started" in status["error"]  # the output's tail says how far it got
    assert "child started" in db.get_log(started["uid"])[1].decode()
