"""Parallel iterations of an in-process handler: forked workers when the launcher has one thread, fresh
interpreters otherwise (a fork after OpenMP ran deadlocks), and a worker that dies mid-iteration."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trackrun.runtimes.parallel import fork_is_safe

SCRIPT_HEAD = """
import os, sys, threading, time
from trackrun import new_task, run_local
"""


def _run_script(tmp_path: Path, body: str, timeout: float = 120) -> subprocess.CompletedProcess:
    path = tmp_path / "sweep.py"
    path.write_text(textwrap.dedent(SCRIPT_HEAD) + textwrap.dedent(body))
    env = dict(os.environ, TRACKRUN_DBPATH=str(tmp_path / "db"))
    return subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=timeout)


def test_fork_is_safe_sees_an_extra_thread():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not fork_is_safe()
    finally:
        stop.set()
        thread.join()


def test_sweep_with_a_thread_running_uses_fresh_workers_and_no_main_guard(tmp_path):
    # A user thread makes fork unsafe: workers are fresh interpreters, and the handler (defined in an
    # unguarded __main__) travels by value, so the script is not re-run by the workers.
    out = _run_script(tmp_path, """
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()

        def handler(context, p=0):
            context.log_result("pid", os.getpid())
            context.log_result("double", p * 2)

        run = run_local(new_task(handler=handler).with_hyper_params({"p": [1, 2, 3, 4]}, "max.double",
                                                                     parallel_runs=2))
        pids = {row[-2] for row in run.status["iterations"][1:]}
        print("RESULT", run.status["results"]["best_iteration"], len(pids), os.getpid() in pids)
    """)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    assert line.split()[1:] == ["4", "2", "False"]  # best is p=4; two worker pids, neither the launcher
    assert out.stdout.count("RESULT") == 1


def test_sweep_after_openmp_ran_in_the_launcher_does_not_hang(tmp_path):
    pytest.importorskip("xgboost")
    out = _run_script(tmp_path, """
        import numpy as np, xgboost as xgb

        def handler(context, n=1):
            xgb.DMatrix(np.random.rand(200, 4), label=np.zeros(200))
            context.log_result("n", n)

        xgb.DMatrix(np.random.rand(200, 4), label=np.zeros(200))  # an OpenMP pool now exists here
        run = run_local(new_task(handler=handler).with_hyper_params({"n": [1, 2, 3, 4]}, "max.n",
                                                                     parallel_runs=2))
        print("RESULT", run.status["results"]["best_iteration"], run.status["state"])
    """, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "RESULT 4 completed" in out.stdout


def test_a_worker_killed_mid_iteration_is_recorded_and_the_sweep_goes_on(tmp_path):
    out = _run_script(tmp_path, """
        def handler(context, p=0):
            if p == 2:
                os.kill(os.getpid(), 9)  # the worker process dies without a word
            context.log_result("p", p)

        try:
            run_local(new_task(handler=handler).with_hyper_params({"p": [1, 2, 3, 4]}, "max.p", parallel_runs=2))
        except Exception as exc:
            print("RAISED", exc)
        from trackrun import get_run_db
        rows = get_run_db().list_runs(iter=True)
        for r in sorted(rows, key=lambda r: r["metadata"]["iteration"]):
            print("ROW", r["metadata"]["iteration"], r["status"]["state"], r["status"].get("error", "").replace(" ", "_"))
    """)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {int(line.split()[1]): line.split(maxsplit=3)[2:] for line in out.stdout.splitlines()
            if line.startswith("ROW")}
    assert rows[0][0] == "completed"  # 3 of 4 iterations completed: the sweep is a success
    assert rows[2][0] in ("error", "aborted") and ("killed" in rows[2][1] or "died" in rows[2][1])
    assert [rows[i][0] for i in (1, 3, 4)] == ["completed"] * 3
