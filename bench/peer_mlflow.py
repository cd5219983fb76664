"""The same workloads on MLflow (the peer), run by run_all.py inside bench/.peer-venv; prints JSON figures
under the same keys as the trackrun benchmarks so run_all can put them side by side.

    bench/.peer-venv/bin/python bench/peer_mlflow.py {import,per_run,sweep,list,metrics} [--quick] [--out F]

Store: MLflow's SQLAlchemy tracking store on SQLite (``sqlite:///<tmp>/mlflow.db``, created before the
timed part) with a local artifact root; per-run also on MLflow's file store (MLFLOW_ALLOW_FILE_STORE=true,
as MLflow 3 keeps it in maintenance mode). Imports neither trackrun nor anything of it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    CACHE_DIR,
    SWEEP_GRID,
    emit,
    figure,
    grid_combos,
    interpreter_time,
    make_iris_csv,
    median,
    parse_args,
    python_info,
)

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
GENERATOR_VERSION = "1"
WARMUP = 20


def _base() -> str:
    return tempfile.mkdtemp(prefix="mlflow-bench-")


def _sqlite_store(folder: str, name: str = "bench") -> tuple[str, str]:
    """Point mlflow at a new SQLite store in folder; create the experiment; return (uri, experiment id)."""
    import mlflow

    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    exp = mlflow.create_experiment(name, artifact_location=f"file://{folder}/artifacts")
    mlflow.set_experiment(experiment_id=exp)
    return uri, exp


def _pragmas(db_file: str) -> str:
    conn = sqlite3.connect(db_file)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return f"journal_mode={mode}, synchronous=FULL (SQLite default; MLflow sets none)"


# -- 1. import ------------------------------------------------------------------------------------
FIRST_RUN = """
import mlflow
mlflow.set_tracking_uri({uri!r})
mlflow.set_experiment(experiment_id={exp!r})
with mlflow.start_run():
    mlflow.log_metric("x", 1)
"""


def bench_import(args: argparse.Namespace) -> None:
    n = min(args.sizes["import_repeats"], 5)  # MLflow's import takes seconds: best of 5 is plenty
    py = sys.executable
    env = dict(os.environ)
    folder = _base()
    uri, exp = _sqlite_store(folder)
    bare = interpreter_time(py, "pass", n, env)
    pkg = interpreter_time(py, "import mlflow", n, env)
    api = interpreter_time(py, "import mlflow; mlflow.start_run, mlflow.log_metric, mlflow.search_runs", n, env)
    first = interpreter_time(py, FIRST_RUN.format(uri=uri, exp=exp), n, env)
    emit(args, "import", [
        figure("import_ms", "import mlflow", (pkg - bare) * 1e3, "ms", n=n,
               note=f"best of {n}, less bare interpreter start {bare * 1e3:.1f} ms"),
        figure("import_api_ms", "import mlflow + start_run/log_metric/search_runs", (api - bare) * 1e3, "ms", n=n),
        figure("first_run_ms", "cold process: import + 1 tracked run (existing store)", (first - bare) * 1e3,
               "ms", n=n),
    ], {"bare_interpreter_ms": bare * 1e3, **_versions()})


# -- 2. per-run overhead --------------------------------------------------------------------------
def _per_run_loop(n: int, blob: str) -> float:
    import mlflow

    def one(i: int) -> None:
        with mlflow.start_run():
            mlflow.log_param("a", i)
            mlflow.log_param("b", 2)
            mlflow.log_metric("accuracy", i * 0.5)
            mlflow.log_metric("loss", 0.5)
            with open(blob, "wb") as fh:  # a fresh 1 KB body per run, as the trackrun side logs
                fh.write(os.urandom(1024))
            mlflow.log_artifact(blob)

    for i in range(WARMUP):
        one(i)
    start = time.perf_counter()
    for i in range(n):
        one(i)
    return (time.perf_counter() - start) / n


def bench_per_run(args: argparse.Namespace) -> None:
    import mlflow

    n = args.sizes["per_run"]
    folder = _base()
    _sqlite_store(folder)
    blob = os.path.join(folder, "blob.bin")
    sqlite_s = _per_run_loop(n, blob)
    pragmas = _pragmas(os.path.join(folder, "mlflow.db"))
    file_s = None
    note = ""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        folder2 = _base()
        mlflow.set_tracking_uri(f"file://{folder2}/mlruns")
        exp = mlflow.create_experiment("bench", artifact_location=f"file://{folder2}/artifacts")
        mlflow.set_experiment(experiment_id=exp)
        file_s = _per_run_loop(n, os.path.join(folder2, "blob.bin"))
    except Exception as exc:  # the file store may be gone in a later MLflow
        note = f"file store unavailable: {type(exc).__name__}: {str(exc)[:120]}"
    emit(args, "per_run", [
        figure("per_run_ms", "per run: start_run, log_param x2, log_metric x2, log_artifact 1 KB", sqlite_s * 1e3,
               "ms/run", n=n, note=f"SQLite store, {pragmas}"),
        figure("per_run_full_ms", "per run, SQLite synchronous=FULL (fsync per commit)", sqlite_s * 1e3, "ms/run",
               n=n, note="the same figure: MLflow's SQLite store runs at synchronous=FULL"),
        figure("per_run_filestore_ms", "per run, MLflow file store (./mlruns)",
               None if file_s is None else file_s * 1e3, "ms/run", n=n, note=note or "MLFLOW_ALLOW_FILE_STORE=true"),
    ], _versions())


# -- 3. sweep -------------------------------------------------------------------------------------
def bench_sweep(args: argparse.Namespace) -> None:
    import mlflow
    from xgb_work import TRAIN_SECONDS, train

    repeats = args.sizes["sweep_repeats"]
    combos = grid_combos(SWEEP_GRID)
    n = len(combos)
    folder = _base()
    dataset = make_iris_csv(os.path.join(folder, "iris.csv"))
    _sqlite_store(folder)
    model_file = os.path.join(folder, "model.bst")
    train(dataset)

    def bare() -> float:
        start = time.perf_counter()
        for combo in combos:
            train(dataset, **combo)
        return time.perf_counter() - start

    def tracked() -> float:
        TRAIN_SECONDS[0] = 0.0
        start = time.perf_counter()
        best = (-1.0, None)
        with mlflow.start_run(run_name="xgb-sweep"):
            mlflow.log_param("selector", "max.accuracy")
            for combo in combos:
                with mlflow.start_run(nested=True):
                    mlflow.log_params(combo)
                    accuracy, model = train(dataset, **combo)
                    mlflow.log_metric("accuracy", accuracy)
                    with open(model_file, "wb") as fh:
                        fh.write(model)
                    mlflow.log_artifact(model_file)
                    best = max(best, (accuracy, mlflow.active_run().info.run_id), key=lambda b: b[0])
            mlflow.log_metric("accuracy", best[0])
            mlflow.set_tag("best_run", best[1])
        return time.perf_counter() - start

    bare_s, seq_s, inside = [], [], []
    for _ in range(repeats):
        bare_s.append(bare())
        seq_s.append(tracked())
        inside.append(seq_s[-1] - TRAIN_SECONDS[0])
    b, s = min(bare_s), min(seq_s)
    emit(args, "sweep", [
        figure("sweep_bare_s", f"sweep: bare loop, {n} trainings, no tracking", b, "s", n=n),
        figure("sweep_seq_s", f"sweep: tracked, sequential ({n} iterations)", s, "s", n=n,
               note="nested runs: log_params + log_metric accuracy + model artifact"),
        figure("sweep_overhead_ms", "sweep overhead per iteration (sequential - bare) / n", (s - b) / n * 1e3,
               "ms/iter", n=n, note=f"best of {repeats}"),
        figure("sweep_nontrain_ms", "sweep: time outside training per iteration (same tracked run)",
               min(inside) / n * 1e3, "ms/iter", n=n),
    ], {"bare_all_s": bare_s, "seq_all_s": seq_s, **_versions()})


# -- 4. search ------------------------------------------------------------------------------------
def _build_part(uri: str, exp: str, first: int, stop: int) -> None:
    """Runs first..stop-1: a team tag, 2 params and 2 metrics each, written through MlflowClient."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    # Building the fixture only (not timed): no fsync per commit. The rows are the same; the queries
    # later run on a copy opened with MLflow's own settings.
    event.listen(Engine, "connect", lambda dbapi_conn, _rec: dbapi_conn.execute("PRAGMA synchronous=OFF"))
    client = MlflowClient(uri)
    base_ms = 1_767_225_600_000  # 2026-01-01
    for i in range(first, stop):
        rng = random.Random(i)
        t0 = base_ms + i * 30_000
        run = client.create_run(exp, start_time=t0, tags={"team": "abcd"[i % 4]}, run_name=f"train-{i % 50}")
        run_id = run.info.run_id
        client.log_batch(run_id, metrics=[Metric("accuracy", round(rng.random(), 6), t0, 0),
                                          Metric("loss", round(rng.uniform(0, 3), 6), t0, 0)],
                         params=[Param("lr", str(round(rng.uniform(0.001, 0.5), 4))),
                                 Param("depth", str(rng.randint(2, 12)))],
                         tags=[RunTag("owner", "bench")])
        client.set_terminated(run_id, end_time=t0 + 12_500)


def _build_runs(folder: str, n: int, workers: int = 2) -> float:
    """n finished runs in a new store in folder, written by ``workers`` processes; the time taken (s)."""
    import multiprocessing

    uri, exp = _sqlite_store(folder)
    start = time.perf_counter()
    bounds = [n * k // workers for k in range(workers + 1)]
    procs = [multiprocessing.get_context("spawn").Process(target=_build_part, args=(uri, exp, a, b))
             for a, b in zip(bounds, bounds[1:], strict=False)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"building the MLflow runs failed (exit {p.exitcode})")
    return time.perf_counter() - start


def bench_list(args: argparse.Namespace) -> None:
    import mlflow
    from mlflow import MlflowClient

    n = args.sizes["peer_stored_runs"]
    repeats = args.sizes["query_repeats"]
    key = hashlib.sha1(f"{GENERATOR_VERSION}-{mlflow.__version__}".encode()).hexdigest()[:10]
    cached = os.path.join(CACHE_DIR, f"mlflow-{mlflow.__version__}-{key}-{n}")
    built = None
    if not os.path.exists(os.path.join(cached, "mlflow.db")):
        tmp = _base()
        built = _build_runs(tmp, n)
        os.makedirs(CACHE_DIR, exist_ok=True)
        staging = cached + ".partial"
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        shutil.copyfile(os.path.join(tmp, "mlflow.db"), os.path.join(staging, "mlflow.db"))
        os.replace(staging, cached)
    folder = _base()
    shutil.copyfile(os.path.join(cached, "mlflow.db"), os.path.join(folder, "mlflow.db"))
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("bench").experiment_id
    query = {"experiment_ids": [exp], "filter_string": "tags.team = 'a'", "order_by": ["metrics.accuracy DESC"],
             "max_results": 100}
    start = time.perf_counter()
    runs = client.search_runs(**query)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runs = client.search_runs(**query)
        times.append(time.perf_counter() - start)
    accs = [r.data.metrics["accuracy"] for r in runs]
    ok = len(runs) == 100 and all(r.data.tags.get("team") == "a" for r in runs) and accs == sorted(accs, reverse=True)
    how = "cached" if built is None else (f"built in {built:.1f} s by 2 processes through MlflowClient, "
                                          f"{built / n * 2e3:.1f} ms/run each")
    print(f"  MLflow: {n:,} stored runs ({how}); first search_runs {first * 1e3:.1f} ms; "
          f"result ordered and filtered: {ok}", flush=True)
    emit(args, "list", [
        figure("list_ms_small", "search_runs(tags.team = 'a', order_by metrics.accuracy DESC, max_results=100)",
               median(times) * 1e3, "ms", n=n, note=f"median of {repeats}"),
        figure("count_ms_small", "count (MLflow has no count API)", None, "ms", n=n, note="n/a"),
    ], {"build": how, "result_ok": ok, **_versions()})


# -- 5. metrics -----------------------------------------------------------------------------------
def bench_metrics(args: argparse.Namespace) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    n_calls = args.sizes["peer_metric_calls"]
    n = args.sizes["metrics"]
    folder = _base()
    uri, _exp = _sqlite_store(folder)
    with mlflow.start_run():
        for step in range(20):
            mlflow.log_metric("warm", 1.0, step=step)
        start = time.perf_counter()
        for step in range(n_calls):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        per_call = time.perf_counter() - start
    client = MlflowClient(uri)
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        start = time.perf_counter()
        now = int(time.time() * 1000)
        points = [Metric("loss", 1.0 / (step + 1), now, step) for step in range(n)]
        for i in range(0, n, 1000):  # log_batch takes at most 1,000 metrics per call
            client.log_batch(run_id, metrics=points[i: i + 1000])
        batch = time.perf_counter() - start
    emit(args, "metrics", [
        figure("metric_points_per_s", "log_metric, one call per point", n_calls / per_call, "points/s",
               better="higher", n=n_calls, note=f"{n_calls:,} calls (each one a committed write)"),
        figure("metric_batch_points_per_s", "log_batch, 1,000 points per call", n / batch, "points/s",
               better="higher", n=n),
    ], _versions())


def _versions() -> dict:
    import mlflow

    return {"mlflow": mlflow.__version__, **python_info()}


BENCHES = {"import": bench_import, "per_run": bench_per_run, "sweep": bench_sweep, "list": bench_list,
           "metrics": bench_metrics}


if __name__ == "__main__":
    which = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in BENCHES else ""
    if not which:
        sys.exit(f"usage: peer_mlflow.py {{{','.join(BENCHES)}}} [--quick] [--out FILE]")
    BENCHES[which](parse_args(__doc__))
