"""``python -m trackrun.runtimes.call_handler FILE HANDLER``: import FILE and call HANDLER for the run
named in TRACKRUN_EXEC_CONFIG (a handler of a file run in its own process)."""

from __future__ import annotations

import json
import os
import sys
import traceback

from trackrun.db import get_run_db
from trackrun.runtimes.entry import EXEC_ENV
from trackrun.runtimes.inprocess import execute_handler
from trackrun.runtimes.loader import load_handler
from trackrun.schemas.run import ERROR, now_iso


def main(argv: list[str]) -> int:
    path, handler_name = argv[1], argv[2]
    ref = json.loads(os.environ[EXEC_ENV])
    db = get_run_db(ref["dbpath"])
    uid, project, iteration = ref["uid"], ref["project"], ref.get("iteration", 0)
    try:
        handler = load_handler(path, handler_name)
    except Exception as exc:
        traceback.print_exc()
        db.update_run({"status.state": ERROR, "status.error": f"{type(exc).__name__}: {exc}",
                       "status.traceback": traceback.format_exc(), "status.last_update": now_iso()},
                      uid, project, iteration)
        return 1
    final = execute_handler(db.read_run(uid, project, iteration), handler, db, capture=False)
    return 1 if final["status"]["state"] == ERROR else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
