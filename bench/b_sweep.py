"""Benchmark 3: the seed's 96-iteration XGBoost sweep on Iris (eta x max_depth x gamma, selector
max.accuracy, the data set a CSV input), sequential and with parallel_runs=2, against the same 96 trainings
in a bare loop with no tracking. Per-iteration overhead = (tracked - bare) / 96 (sequential).

Bare and tracked loops alternate and each figure is the best of the repeats, so a noisy neighbour on the
machine inflates neither side alone. As the difference of two ~3 s timings is noisy (the bare loop alone
varies by a few ms per iteration between runs), a second figure measures the same thing inside one
tracked sweep: its wall time less the time spent inside ``train()``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SWEEP_GRID, emit, figure, grid_combos, make_iris_csv, parse_args, python_info  # noqa: E402
from xgb_work import TRAIN_SECONDS, train, xgb_train  # noqa: E402

_BASE = os.environ.get("TRACKRUN_DBPATH") or tempfile.mkdtemp(prefix="trackrun-bench-")


def bare(dataset: str) -> float:
    start = time.perf_counter()
    best = -1.0
    for combo in grid_combos(SWEEP_GRID):
        accuracy, _model = train(dataset, **combo)
        best = max(best, accuracy)
    return time.perf_counter() - start


def tracked(dataset: str, parallel: int) -> tuple[float, dict]:
    from trackrun import get_run_db, new_task, run_local

    os.environ["TRACKRUN_DBPATH"] = tempfile.mkdtemp(prefix="trackrun-bench-sweep-", dir=_BASE)
    get_run_db()  # open (and create) the store outside the timed part, as a second sweep would find it
    task = new_task(handler=xgb_train, inputs={"dataset": dataset}).with_hyper_params(
        SWEEP_GRID, "max.accuracy", parallel_runs=parallel)
    TRAIN_SECONDS[0] = 0.0
    start = time.perf_counter()
    run = run_local(task, project="bench")
    elapsed = time.perf_counter() - start
    status = run.status
    return elapsed, {"training_s": TRAIN_SECONDS[0] if parallel == 1 else None,"best_iteration": status["results"].get("best_iteration"),
                     "best_accuracy": status["results"].get("accuracy"),
                     "iterations": len(status.get("iterations") or []) - 1,
                     "state": status.get("state")}


def main() -> None:
    args = parse_args(__doc__)
    repeats = args.sizes["sweep_repeats"]
    n = len(grid_combos(SWEEP_GRID))
    dataset = make_iris_csv(os.path.join(tempfile.mkdtemp(prefix="trackrun-bench-iris-", dir=_BASE),
                                         "iris.csv"))
    train(dataset)  # warm-up: xgboost's first DMatrix and train
    bare_s, seq_s, par_s, inside = [], [], [], []
    info: dict = {}
    for _ in range(repeats):
        bare_s.append(bare(dataset))
        elapsed, info_seq = tracked(dataset, 1)
        seq_s.append(elapsed)
        inside.append(elapsed - info_seq["training_s"])
        elapsed, info_par = tracked(dataset, 2)
        par_s.append(elapsed)
        info = {"sequential": info_seq, "parallel_2": info_par}
    b, s, p = min(bare_s), min(seq_s), min(par_s)
    print(f"  sweep outcome: {info}", flush=True)
    emit(args, "sweep", [
        figure("sweep_bare_s", f"sweep: bare loop, {n} trainings, no tracking", b, "s", n=n),
        figure("sweep_seq_s", f"sweep: tracked, sequential ({n} iterations)", s, "s", n=n),
        figure("sweep_par2_s", "sweep: tracked, parallel_runs=2", p, "s", n=n,
               note=f"{s / p:.2f}x the sequential sweep, {b / p:.2f}x the bare loop"),
        figure("sweep_overhead_ms", "sweep overhead per iteration (sequential - bare) / n", (s - b) / n * 1e3,
               "ms/iter", n=n, target=2.0, note=f"best of {repeats}"),
        figure("sweep_nontrain_ms", "sweep: time outside training per iteration (same tracked run)",
               min(inside) / n * 1e3, "ms/iter", n=n,
               note="sequential wall time less the time inside train(), best of the repeats; immune to the "
                    "bare loop's run-to-run noise"),
    ], {**info, "bare_all_s": bare_s, "seq_all_s": seq_s, "par_all_s": par_s, **python_info()})


if __name__ == "__main__":
    main()
