"""Worker processes for parallel iterations of an in-process handler.

A worker runs `serve`: it reads the iterations to run, one JSON line each naming (uid, project, iteration)
(the run record in the store is the hand-off), runs the handler for each and answers with one JSON line.
The handler's own prints go to stderr and, through the usual capture, to the run's log.

Workers are forked from the launching process when that is safe (it has a single thread), so they start
at once with the handler and its imports already loaded. Forking a process that has other threads is not
safe: an OpenMP pool (XGBoost, numpy's BLAS) left behind in the child deadlocks it. Then a fresh
interpreter is started instead (``python -m trackrun.runtimes.worker``) and sent the handler pickled by
value with cloudpickle; it pays the imports once.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable
from typing import IO


def serve(handler: Callable, db_url: str, inline: dict, tasks: IO[str], answers: IO[str]) -> None:
    from trackrun.db import get_run_db
    from trackrun.runtimes.inprocess import execute_handler

    db = get_run_db(db_url)
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in tasks:
        task = json.loads(line)
        try:
            run = db.read_run(task["uid"], task["project"], task["iteration"])
            final = execute_handler(run, handler, db, inline, echo=False)
            answer = {"iteration": task["iteration"], "state": final["status"].get("state")}
        except Exception as exc:  # the store failed: say so, the parent records it
            answer = {"iteration": task["iteration"], "failure": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main() -> int:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything the handler (or a C library) writes to stdout goes to stderr
    sys.stdout = sys.stderr

    import cloudpickle

    setup = json.loads(sys.stdin.readline())
    handler = cloudpickle.loads(base64.b64decode(setup["handler"]))
    serve(handler, setup["db"], setup.get("inline") or {}, sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
