"""Run a Python script in a child process: it loads its run record (named in TRACKRUN_EXEC_CONFIG) with
`get_or_create_ctx`; we stream its output into the run's log while it runs and record how it ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from trackrun.runtimes.capture import LogSink, iteration_header
from trackrun.runtimes.entry import EXEC_ENV
from trackrun.schemas.run import COMPLETED, CREATED, ERROR, PENDING, RUNNING, now_iso
from trackrun.secrets import INLINE_ENV, SecretStore


def run_script(run: dict, command: str, args: list[str], db: Any, inline_secrets: dict | None = None,
               workdir: str | None = None, echo: bool = True, handler: str = "") -> dict:
    """Start ``python -u command args`` (or, with ``handler``, call that function of the file) for the run
    record ``run`` (already stored) and return the final record."""
    meta = run["metadata"]
    uid, project, iteration = meta["uid"], meta["project"], int(meta.get("iteration") or 0)
    env = dict(os.environ)
    env[EXEC_ENV] = json.dumps({"uid": uid, "project": project, "iteration": iteration, "dbpath": db.url})
    env["TRACKRUN_DBPATH"] = db.url
    env["PYTHONUNBUFFERED"] = "1"
    if inline_secrets:
        env[INLINE_ENV] = json.dumps(inline_secrets)
    if handler:
        argv = [sys.executable, "-u", "-m", "trackrun.runtimes.call_handler", command, handler]
    else:
        argv = [sys.executable, "-u", command, *args]
    secrets = SecretStore(run["spec"].get("secret_sources"), inline_secrets)
    sink = LogSink(db, uid, project, secrets.mask, iteration_header(iteration))
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=workdir or None, text=True, errors="replace", bufsize=1)
    except OSError as exc:
        return _end(db, uid, project, iteration, f"could not start {command}: {exc.strerror}")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if echo:
                sys.stdout.write(secrets.mask(line))
                sys.stdout.flush()
            sink.write(line)
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        sink.flush()
        _end(db, uid, project, iteration, "interrupted (Ctrl-C)", state="aborted")
        raise
    sink.flush()
    final = db.read_run(uid, project, iteration)
    state = final["status"].get("state")
    if code != 0 and state != ERROR:
        reason = f"-{signal.Signals(-code).name}" if code < 0 else str(code)
        tail = "\n".join(sink.tail[-10:])
        return _end(db, uid, project, iteration, f"{command} exited with code {reason}\n{secrets.mask(tail)}")
    if code == 0 and state in (CREATED, PENDING, RUNNING):
        db.update_run({"status.state": COMPLETED, "status.end_time": now_iso(), "status.last_update": now_iso()},
                      uid, project, iteration)
        final = db.read_run(uid, project, iteration)
    return final


def _end(db: Any, uid: str, project: str, iteration: int, error: str, state: str = ERROR) -> dict:
    db.update_run({"status.state": state, "status.error": error, "status.end_time": now_iso(),
                   "status.last_update": now_iso()}, uid, project, iteration)
    return db.read_run(uid, project, iteration)
