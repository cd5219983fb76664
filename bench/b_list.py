"""Benchmark 4: ``list_runs`` with a label filter and a sort on a result, and ``count_runs`` with the same
filter, over N stored runs (100,000 in the full mode; also at the peer's size for a like-for-like ratio).

The N run records are written in bulk (SQLAlchemy executemany, batches of 5,000) with exactly the rows
``store_run`` writes: the runs row comes from the store's own ``_run_row_values`` and the label and
number rows from its ``_index_rows``; before loading, a sample is written both ways into two fresh stores
and the tables compared (the result is printed; on any difference the loader falls back to store_run).
Each record is a real run record (taken from a run_local run) with its own uid, name, team label
(a/b/c/d, a quarter each), parameters, results and times. The loaded database is cached in
bench/.cache, keyed by the schema revision and the source of the row-writing functions.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CACHE_DIR, emit, figure, median, parse_args, python_info  # noqa: E402

GENERATOR_VERSION = "2"
PROJECT = "bench"
TEAMS = "abcd"
BATCH = 5_000
VERIFY_SAMPLE = 300
_BASE = os.environ.get("TRACKRUN_DBPATH") or tempfile.mkdtemp(prefix="trackrun-bench-")


def _template() -> dict:
    """A completed run record made by a real run_local run (2 params, 2 results, 1 KB artifact)."""
    from trackrun import get_run_db, new_task, run_local

    def train(context, lr=0.1, depth=3):
        context.log_result("accuracy", 0.9)
        context.log_result("loss", 0.1)
        context.log_artifact("model", body=os.urandom(1024), local_path="model.bin")

    os.environ["TRACKRUN_DBPATH"] = tempfile.mkdtemp(prefix="trackrun-bench-template-", dir=_BASE)
    run = run_local(new_task(handler=train, params={"lr": 0.1, "depth": 3}), project=PROJECT,
                    labels={"team": "a"})
    return get_run_db().read_run(run.metadata["uid"], PROJECT)


def make_records(template: dict, n: int, seed: int = 7):
    """Yield n run records varied from the template (deterministic for a seed)."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    for i in range(n):
        run = copy.deepcopy(template)
        meta, spec, status = run["metadata"], run["spec"], run["status"]
        uid = f"{rng.getrandbits(128):032x}"
        meta["uid"] = uid
        meta["name"] = f"train-{i % 50}"
        meta["labels"]["team"] = TEAMS[i % 4]
        spec["parameters"] = {"lr": round(rng.uniform(0.001, 0.5), 4), "depth": rng.randint(2, 12)}
        status["results"] = {"accuracy": round(rng.random(), 6), "loss": round(rng.uniform(0, 3), 6)}
        t0 = start + i * 30.0
        status["start_time"] = datetime.fromtimestamp(t0, UTC).isoformat()
        status["end_time"] = status["last_update"] = datetime.fromtimestamp(t0 + 12.5, UTC).isoformat()
        for art in status.get("artifacts") or []:
            art_uid = f"{rng.getrandbits(128):032x}"
            art["tree"] = uid
            if "uri" in art and art.get("uid"):
                art["uri"] = art["uri"].replace(art["uid"], art_uid)
            art["uid"] = art_uid
        yield run


def _index_rows(store, run_id: int, struct: dict) -> tuple[list[dict], list[dict]]:
    """The label and number rows store_run writes for a new run."""
    return store._index_rows(run_id, struct)


def bulk_load(store, records) -> int:
    """Write the records with executemany in batches; return how many were written."""
    from sqlalchemy import func, insert, select

    from trackrun.db.sql import tables as t

    records = iter(records)
    first = next(records, None)
    if first is None:
        return 0
    store.store_run(first, first["metadata"]["uid"], PROJECT)  # creates the project row the store's way
    written = 1
    with store.engine.begin() as conn:
        next_id = conn.execute(select(func.max(t.runs.c.id))).scalar() + 1
    done = False
    while not done:
        runs, labels, numbers = [], [], []
        for struct in records:
            row = {"id": next_id, "project": PROJECT, "uid": struct["metadata"]["uid"], "iteration": 0,
                   **store._run_row_values(struct)}
            label_rows, number_rows = _index_rows(store, next_id, struct)
            runs.append(row)
            labels += label_rows
            numbers += number_rows
            next_id += 1
            if len(runs) >= BATCH:
                break
        else:
            done = True
        if runs:
            with store.engine.begin() as conn:
                conn.execute(insert(t.runs), runs)
                if labels:
                    conn.execute(insert(t.run_labels), labels)
                if numbers:
                    conn.execute(insert(t.run_numbers), numbers)
            written += len(runs)
    return written


def _open(folder: str):
    from trackrun import get_run_db

    os.environ["TRACKRUN_DBPATH"] = folder
    return get_run_db(folder)


def _dump(db_file: str) -> dict:
    import sqlite3

    conn = sqlite3.connect(db_file)
    try:
        return {
            "projects": conn.execute("SELECT name FROM projects ORDER BY name").fetchall(),
            "runs": conn.execute("SELECT * FROM runs ORDER BY id").fetchall(),
            "run_labels": conn.execute("SELECT * FROM run_labels ORDER BY run_id, name").fetchall(),
            "run_numbers": conn.execute("SELECT * FROM run_numbers ORDER BY run_id, field, key").fetchall(),
        }
    finally:
        conn.close()


def verify(template: dict) -> str:
    """Write a sample with store_run and with bulk_load into two fresh stores; compare the tables."""
    sample = list(make_records(template, VERIFY_SAMPLE, seed=99))
    a = tempfile.mkdtemp(prefix="trackrun-bench-verify-a-", dir=_BASE)
    b = tempfile.mkdtemp(prefix="trackrun-bench-verify-b-", dir=_BASE)
    store_a = _open(a)
    for struct in sample:
        store_a.store_run(struct, struct["metadata"]["uid"], PROJECT)
    store_b = _open(b)
    bulk_load(store_b, sample)
    store_a.close()
    store_b.close()
    dump_a, dump_b = _dump(os.path.join(a, "trackrun.db")), _dump(os.path.join(b, "trackrun.db"))
    diffs = [name for name in dump_a if dump_a[name] != dump_b[name]]
    return "identical" if not diffs else "DIFFERENT in " + ", ".join(diffs)


def _cache_key(n: int) -> str:
    from trackrun.db.sql import engine, store, tables

    parts = [GENERATOR_VERSION, str(n), inspect.getsource(store.SQLStore._run_row_values),
             inspect.getsource(store.SQLStore.store_run), inspect.getsource(tables)]
    if hasattr(store.SQLStore, "_index_rows"):
        parts.append(inspect.getsource(store.SQLStore._index_rows))
    digest = hashlib.sha1("\n".join(parts).encode()).hexdigest()[:10]
    return f"trackrun-runs-rev{engine.HEAD_REVISION}-{digest}-{n}"


def build(template: dict, n: int, same_rows: bool) -> tuple[str, float | None]:
    """The cached database file of n runs (built if missing); the build time in s (None when cached)."""
    folder = os.path.join(CACHE_DIR, _cache_key(n))
    db_file = os.path.join(folder, "trackrun.db")
    if os.path.exists(db_file):
        return db_file, None
    tmp = tempfile.mkdtemp(prefix="trackrun-bench-build-", dir=_BASE)
    store = _open(tmp)
    start = time.perf_counter()
    if same_rows:
        bulk_load(store, make_records(template, n))
    else:  # the slow, certain way
        for struct in make_records(template, n):
            store.store_run(struct, struct["metadata"]["uid"], PROJECT)
    elapsed = time.perf_counter() - start
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    os.makedirs(CACHE_DIR, exist_ok=True)
    staging = folder + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    shutil.copyfile(os.path.join(tmp, "trackrun.db"), os.path.join(staging, "trackrun.db"))
    os.replace(staging, folder)
    return db_file, elapsed


def measure(db_file: str, n: int, repeats: int) -> dict:
    """Copy the cached database into a fresh folder, open it there and time the queries."""
    folder = tempfile.mkdtemp(prefix="trackrun-bench-list-", dir=_BASE)
    shutil.copyfile(db_file, os.path.join(folder, "trackrun.db"))
    db = _open(folder)
    query = {"project": PROJECT, "labels": ["team=a"], "sort_by": "-results.accuracy", "last": 100}
    start = time.perf_counter()
    runs = db.list_runs(**query)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runs = db.list_runs(**query)
        times.append(time.perf_counter() - start)
    counts, count_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        counts.append(db.count_runs(project=PROJECT, labels=["team=a"]))
        count_times.append(time.perf_counter() - start)
    accs = [r["status"]["results"]["accuracy"] for r in runs]
    check = (len(runs) == 100 and all(r["metadata"]["labels"].get("team") == "a" for r in runs)
             and accs == sorted(accs, reverse=True))
    total = db.count_runs(project=PROJECT)
    db.close()
    return {"list_s": median(times), "first_list_s": first, "count_s": median(count_times), "count": counts[0],
            "stored": total, "result_ok": check}


def main() -> None:
    args = parse_args(__doc__)
    sizes = [args.sizes["stored_runs"]]
    if args.sizes["peer_stored_runs"] != sizes[0]:
        sizes.append(args.sizes["peer_stored_runs"])
    repeats = args.sizes["query_repeats"]
    template = _template()
    same = verify(template)
    print(f"  bulk-loaded rows vs store_run rows ({VERIFY_SAMPLE} runs): {same}", flush=True)
    figures, info = [], {"verify": same}
    for i, n in enumerate(sizes):
        db_file, built = build(template, n, same == "identical")
        how = "cached" if built is None else f"built in {built:.1f} s ({built / n * 1e6:.0f} us/run)"
        m = measure(db_file, n, repeats)
        print(f"  {m['stored']:,} stored runs ({how}); team=a matches {m['count']:,}; first list_runs "
              f"{m['first_list_s'] * 1e3:.1f} ms; result ordered and filtered: {m['result_ok']}", flush=True)
        suffix = "" if i == 0 else "_small"
        figures += [
            figure("list_ms" + suffix, "list_runs(labels=team=a, sort -results.accuracy, last=100)",
                   m["list_s"] * 1e3, "ms", n=m["stored"], target=100.0 if i == 0 else None,
                   note=f"median of {repeats}; {m['count']:,} runs match"),
            figure("count_ms" + suffix, "count_runs(labels=team=a)", m["count_s"] * 1e3, "ms", n=m["stored"],
                   note=f"median of {repeats}"),
        ]
        info[f"n{n}"] = {**m, "build": how}
    emit(args, "list", figures, {**info, **python_info()})


if __name__ == "__main__":
    main()
