"""Benchmark 2: per-run overhead. N sequential ``run_local`` handler runs, each logging 2 params, 2 results
and one 1 KB artifact, into the embedded store at TRACKRUN_DBPATH (SQLite, WAL, synchronous=NORMAL; the
figure's note counts the os.fsync calls made outside SQLite, e.g. for artifact bodies).

A second pass runs the same loop with SQLite's synchronous=FULL (an fsync at every commit, MLflow's SQLite
default) so both stores can be compared at the same durability.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, figure, parse_args, python_info  # noqa: E402

WARMUP = 20


def handler(context, a=1, b=2):
    context.log_result("accuracy", a * 0.5)
    context.log_result("loss", b * 0.25)
    context.log_artifact("blob", body=os.urandom(1024), local_path="blob.bin")


def loop(n: int, synchronous: str = "") -> float:
    """Seconds per run over ``n`` runs into a fresh store (own folder)."""
    from trackrun import get_run_db, new_task, run_local

    os.environ["TRACKRUN_DBPATH"] = tempfile.mkdtemp(prefix="trackrun-bench-per-run-", dir=_BASE)
    db = get_run_db()
    if synchronous:
        from sqlalchemy import event

        db.engine.dispose()  # new connections get the pragma after trackrun's own connect hook
        event.listen(db.engine, "connect",
                     lambda conn, _rec: conn.execute(f"PRAGMA synchronous={synchronous}"))
    for i in range(WARMUP):
        run_local(new_task(handler=handler, params={"a": i, "b": 2}), project="bench")
    start = time.perf_counter()
    for i in range(n):
        run_local(new_task(handler=handler, params={"a": i, "b": 2}), project="bench")
    elapsed = time.perf_counter() - start
    stored = db.count_runs(project="bench")
    if stored != n + WARMUP:
        print(f"  warning: {stored} runs stored, expected {n + WARMUP}", flush=True)
    return elapsed / n


_BASE = os.environ.get("TRACKRUN_DBPATH") or tempfile.mkdtemp(prefix="trackrun-bench-")


def _count_fsyncs() -> list[int]:
    """Count os.fsync calls (the artifact bodies' durability) without changing what they do."""
    calls = [0]
    real = os.fsync

    def fsync(fd: int) -> None:
        calls[0] += 1
        real(fd)

    os.fsync = fsync
    return calls


def main() -> None:
    args = parse_args(__doc__)
    n = args.sizes["per_run"]
    fsyncs = _count_fsyncs()
    normal = loop(n)
    per_run_fsyncs = fsyncs[0] / (n + WARMUP)
    full = loop(n, synchronous="FULL")
    emit(args, "per_run", [
        figure("per_run_ms", "per run: run_local, 2 params + 2 results + 1 KB artifact", normal * 1e3, "ms/run",
               n=n, target=2.0, note=f"SQLite WAL, synchronous=NORMAL; {per_run_fsyncs:g} os.fsync calls per run "
                                     "outside SQLite"),
        figure("per_run_full_ms", "per run, SQLite synchronous=FULL (fsync per commit)", full * 1e3, "ms/run",
               n=n),
    ], python_info())


if __name__ == "__main__":
    main()
