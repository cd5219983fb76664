"""Profile the per-run loop of b_per_run.py with cProfile and print where the time goes: the top functions
by own time, and trackrun's own functions by cumulative time, each with its share of the loop.

    .venv/bin/python bench/profile_per_run.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from b_per_run import handler  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _where(func: tuple) -> str:
    filename, line, name = func
    if filename.startswith(ROOT):
        filename = os.path.relpath(filename, ROOT)
    elif "site-packages" in filename:
        filename = filename.split("site-packages/", 1)[1]
    return f"{filename}:{line}({name})" if line else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=0)
    args = parser.parse_args()
    n = args.runs or (100 if args.quick else 500)
    os.environ.setdefault("TRACKRUN_DBPATH", tempfile.mkdtemp(prefix="trackrun-bench-profile-"))
    from trackrun import new_task, run_local

    for i in range(20):
        run_local(new_task(handler=handler, params={"a": i, "b": 2}), project="bench")
    start = time.perf_counter()
    for i in range(n):
        run_local(new_task(handler=handler, params={"a": i, "b": 2}), project="bench")
    plain = (time.perf_counter() - start) / n
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        run_local(new_task(handler=handler, params={"a": i, "b": 2}), project="bench")
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"  {n} runs: {plain * 1e3:.2f} ms/run unprofiled, {total / n * 1e3:.2f} ms/run under cProfile "
          "(shares below are of the profiled time)")
    rows = stats.stats  # func -> (cc, nc, tt, ct, callers)
    print("\n  top functions by own time:")
    for func, (_cc, nc, tt, _ct, _callers) in sorted(rows.items(), key=lambda kv: -kv[1][2])[:12]:
        print(f"    {tt / total:6.1%}  {tt / n * 1e3:6.3f} ms/run  {nc / n:6.1f} calls/run  {_where(func)}")
    print("\n  trackrun functions by cumulative time (nested: a caller includes its callees):")
    ours = [(func, v) for func, v in rows.items() if func[0].startswith(os.path.join(ROOT, "trackrun"))]
    for func, (_cc, nc, _tt, ct, _callers) in sorted(ours, key=lambda kv: -kv[1][3])[:20]:
        print(f"    {ct / total:6.1%}  {ct / n * 1e3:6.3f} ms/run  {nc / n:6.1f} calls/run  {_where(func)}")
    io_funcs = {"fsync": 0.0, "commit": 0.0, "execute": 0.0, "executemany": 0.0}
    for func, (_cc, _nc, tt, _ct, _callers) in rows.items():
        for key in io_funcs:
            if func[0] == "~" and (key in func[2]) and ("sqlite3" in func[2] or "posix" in func[2]):
                io_funcs[key] += tt
    print("\n  in SQLite / the OS: " + ", ".join(f"{k} {v / total:.1%}" for k, v in io_funcs.items()))


if __name__ == "__main__":
    main()
