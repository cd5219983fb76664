"""Benchmark 1: import time, in fresh interpreters (best of N, less a bare interpreter's start).

Figures: ``import trackrun`` (the package; names load lazily), ``from trackrun import new_task, run_local,
get_run_db`` (what a script does), and a cold process doing one tracked run in an existing store.
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, figure, interpreter_time, parse_args, python_info  # noqa: E402

FIRST_RUN = """
from trackrun import new_task, run_local
def h(context, a=1):
    context.log_result("x", a)
run_local(new_task(handler=h, params={"a": 1}))
"""


def main() -> None:
    args = parse_args(__doc__)
    n = args.sizes["import_repeats"]
    py = sys.executable
    env = dict(os.environ)
    env.setdefault("TRACKRUN_DBPATH", tempfile.mkdtemp(prefix="trackrun-bench-import-"))
    bare = interpreter_time(py, "pass", n, env)
    pkg = interpreter_time(py, "import trackrun", n, env)
    api = interpreter_time(py, "from trackrun import new_task, run_local, get_run_db", n, env)
    first = interpreter_time(py, FIRST_RUN, n, env)  # the warm-up run creates the store
    emit(args, "import", [
        figure("import_ms", "import trackrun", (pkg - bare) * 1e3, "ms", n=n, target=100.0,
               note=f"best of {n}, less bare interpreter start {bare * 1e3:.1f} ms"),
        figure("import_api_ms", "from trackrun import new_task, run_local, get_run_db", (api - bare) * 1e3, "ms",
               n=n),
        figure("first_run_ms", "cold process: import + 1 tracked run (existing store)", (first - bare) * 1e3,
               "ms", n=n),
    ], {"bare_interpreter_ms": bare * 1e3, **python_info()})


if __name__ == "__main__":
    main()
