"""Benchmark 5: one run logging N step metrics with ``context.log_metric(key, value, step)``; the rate
counts from the first call until the points are committed to the store (``context.commit()``)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, figure, parse_args, python_info  # noqa: E402

_BASE = os.environ.get("TRACKRUN_DBPATH") or tempfile.mkdtemp(prefix="trackrun-bench-")


def main() -> None:
    args = parse_args(__doc__)
    n = args.sizes["metrics"]
    from trackrun import get_run_db, new_task, run_local

    os.environ["TRACKRUN_DBPATH"] = tempfile.mkdtemp(prefix="trackrun-bench-metrics-", dir=_BASE)
    timing: dict[str, float] = {}

    def handler(context, n=1000):
        start = time.perf_counter()
        for step in range(n):
            context.log_metric("loss", 1.0 / (step + 1), step=step)
        logged = time.perf_counter()
        context.commit()
        timing["log"], timing["total"] = logged - start, time.perf_counter() - start

    run_local(new_task(handler=handler, params={"n": 100}), project="bench")  # warm-up
    run = run_local(new_task(handler=handler, params={"n": n}), project="bench")
    stored = get_run_db().list_metrics(run.metadata["uid"], "bench")
    count = len(stored.get("loss", []))
    if count != n:
        print(f"  warning: {count} points stored, expected {n}", flush=True)
    emit(args, "metrics", [
        figure("metric_points_per_s", "log_metric, one call per point, until committed", n / timing["total"],
               "points/s", better="higher", n=n, target=100_000.0,
               note=f"{timing['log'] / n * 1e6:.1f} us/call in memory + {(timing['total'] - timing['log']) * 1e3:.1f}"
                    " ms to commit"),
    ], {"stored_points": count, **python_info()})


if __name__ == "__main__":
    main()
