"""Helpers shared by the benchmark modules (trackrun side and the MLflow peer side).

This module imports neither trackrun nor mlflow, so the peer script (run in its own virtualenv) can use it.
Every benchmark module writes its figures as JSON to ``--out`` (or prints them) and never asserts:
the figures are printed, compared and judged by `run_all.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.path.join(BENCH_DIR, ".cache")

# Sizes per mode; "quick" is a smoke check, "full" the published figures.
SIZES: dict[str, dict[str, int]] = {
    "quick": {"import_repeats": 5, "per_run": 100, "sweep_repeats": 1, "stored_runs": 10_000,
              "peer_stored_runs": 2_000, "metrics": 1_000, "peer_metric_calls": 500, "query_repeats": 5},
    "full": {"import_repeats": 15, "per_run": 1_000, "sweep_repeats": 3, "stored_runs": 100_000,
             "peer_stored_runs": 10_000, "metrics": 10_000, "peer_metric_calls": 2_000, "query_repeats": 5},
}

# The XGBoost sweep of the seed (4 x 6 x 4 = 96 iterations), selector max.accuracy.
SWEEP_GRID: dict[str, list] = {
    "eta": [0.05, 0.10, 0.20, 0.30],
    "max_depth": [3, 4, 5, 6, 8, 10],
    "gamma": [0.0, 0.1, 0.2, 0.3],
}


def grid_combos(grid: dict[str, list]) -> list[dict]:
    """The grid in the order a nested loop over the keys gives (for the bare and the peer loops)."""
    combos: list[dict] = [{}]
    for key, values in grid.items():
        combos = [{**c, key: v} for c in combos for v in values]
    return combos


def parse_args(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
               ) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--out", default="", help="write the figures as JSON to this file")
    if extra:
        extra(parser)
    args = parser.parse_args()
    args.mode = "quick" if args.quick else "full"
    args.sizes = SIZES[args.mode]
    return args


def figure(key: str, label: str, value: float | None, unit: str, better: str = "lower", n: int | None = None,
           target: float | None = None, note: str = "") -> dict[str, Any]:
    """One measured figure. ``better`` says which direction is good ("lower" for times, "higher" for rates)."""
    return {"key": key, "label": label, "value": value, "unit": unit, "better": better, "n": n,
            "target": target, "note": note}


def emit(args: argparse.Namespace, bench: str, figures: list[dict], info: dict | None = None) -> None:
    """Print the figures for a human and write them as JSON for run_all."""
    for f in figures:
        value = "n/a" if f["value"] is None else f"{f['value']:,.3f}"
        n = f" (n={f['n']:,})" if f.get("n") else ""
        print(f"  {f['label']}: {value} {f['unit']}{n}" + (f"  [{f['note']}]" if f.get("note") else ""),
              flush=True)
    payload = {"bench": bench, "figures": figures, "info": info or {}}
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(payload, fh)
    else:
        print(json.dumps(payload))


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interpreter_time(python: str, code: str, repeats: int, env: dict | None = None) -> float:
    """Best wall time (s) of a fresh ``python -c code`` over ``repeats`` runs, after one warm-up run
    (which also writes the bytecode caches, as an installed package has them)."""
    env = dict(os.environ if env is None else env)
    # Let the warm-up run write bytecode caches (pip and uv --compile-bytecode installs ship them); with
    # PYTHONDONTWRITEBYTECODE set, every fresh interpreter would compile each imported module from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    best = float("inf")
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        if i:
            best = min(best, elapsed)
    return best


def make_iris_csv(path: str) -> str:
    """Write the Iris data set (shipped inside scikit-learn, no download) as CSV with a ``label`` column."""
    import pandas as pd
    from sklearn.datasets import load_iris

    iris = load_iris()
    df = pd.DataFrame(data=iris.data, columns=iris.feature_names)
    df["label"] = iris.target
    df.to_csv(path, index=False)
    return path


def python_info() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "executable": sys.executable, "nproc": os.cpu_count()}
