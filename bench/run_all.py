"""Run the trackrun benchmarks and, when the peer virtualenv exists, the same workloads on MLflow; print
each figure, then one table: trackrun, MLflow, how many times better trackrun is, the target, met or not.

    .venv/bin/python bench/run_all.py [--quick] [--only per_run,list] [--no-peer] [--json FILE]

Each benchmark runs in its own process with its own temporary TRACKRUN_DBPATH (removed afterwards).
Nothing here asserts: a missed target is printed as "NO" and the exit code stays 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BENCH_DIR, SIZES  # noqa: E402

BENCHES = [("import", "b_import.py"), ("per_run", "b_per_run.py"), ("sweep", "b_sweep.py"),
           ("list", "b_list.py"), ("metrics", "b_metrics.py")]
PEER_PYTHON = os.path.join(BENCH_DIR, ".peer-venv", "bin", "python")
TIMEOUT_S = 900
_UNSET = ("TRACKRUN_ARTIFACT_PATH", "TRACKRUN_CONFIG_FILE", "TRACKRUN_DEFAULT_PROJECT", "TRACKRUN_EXEC_CONFIG")


def _run(cmd: list[str], env: dict, cwd: str, out: str) -> dict | None:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"  TIMED OUT after {TIMEOUT_S} s: {' '.join(cmd)}", flush=True)
        return None
    if proc.returncode != 0 or not os.path.exists(out):
        print(f"  FAILED (exit {proc.returncode}): {' '.join(cmd)}", flush=True)
        return None
    with open(out) as fh:
        return json.load(fh)


def run_bench(name: str, script: str, quick: bool, python: str, peer: bool) -> dict | None:
    tmp = tempfile.mkdtemp(prefix=f"{'mlflow' if peer else 'trackrun'}-bench-{name}-")
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env["TRACKRUN_DBPATH"] = tmp
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    out = os.path.join(tmp, "figures.json")
    if peer:
        cmd = [python, os.path.join(BENCH_DIR, "peer_mlflow.py"), name, "--out", out]
    else:
        cmd = [python, os.path.join(BENCH_DIR, script), "--out", out]
    if quick:
        cmd.append("--quick")
    try:
        return _run(cmd, env, tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "points/s":
        return f"{value:,.0f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}" if abs(value) < 10 else f"{value:.1f} {unit}"


def _n(fig: dict | None) -> str:
    return f"{fig['n']:,}" if fig and fig.get("n") else ""


def table(ours: dict[str, dict], peer: dict[str, dict]) -> list[str]:
    """Markdown rows: one per figure key, in the order the benchmarks printed them."""
    keys = list(ours) + [k for k in peer if k not in ours]
    lines = ["| figure | trackrun (n) | MLflow (n) | trackrun vs MLflow | target | met? |",
             "| --- | --- | --- | --- | --- | --- |"]
    for key in keys:
        a, b = ours.get(key), peer.get(key)
        ref = a or b
        unit, better = ref["unit"], ref["better"]
        ratio = ""
        if a and b and a["value"] and b["value"]:
            times = b["value"] / a["value"] if better == "lower" else a["value"] / b["value"]
            ratio = f"{times:.1f}x better" if times >= 1 else f"{1 / times:.1f}x worse"
        target = met = ""
        if a and a.get("target") is not None:
            sign = "<" if better == "lower" else ">="
            target = f"{sign} {_fmt(a['target'], unit)}"
            if a["value"] is None:
                met = "n/a"
            else:
                ok = a["value"] < a["target"] if better == "lower" else a["value"] >= a["target"]
                met = "yes" if ok else "**NO**"
        label = ref["label"]
        cell_a = f"{_fmt(a['value'], unit)} ({_n(a)})" if a else "-"
        cell_b = f"{_fmt(b['value'], unit)} ({_n(b)})" if b else "-"
        lines.append(f"| {label} | {cell_a.replace(' ()', '')} | {cell_b.replace(' ()', '')} | {ratio} | "
                     f"{target} | {met} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(n for n, _ in BENCHES))
    parser.add_argument("--no-peer", action="store_true", help="skip MLflow even if bench/.peer-venv exists")
    parser.add_argument("--peer-python", default=PEER_PYTHON, help="the peer virtualenv's python")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile the per-run loop (auto: when it misses its target)")
    parser.add_argument("--json", default="", help="also write every figure to this JSON file")
    args = parser.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = only - {n for n, _ in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    peer_ok = not args.no_peer and os.path.exists(args.peer_python)
    mode = "quick" if args.quick else "full"
    started = time.perf_counter()
    print(f"trackrun benchmarks ({mode}: {SIZES[mode]})", flush=True)
    print(f"{datetime.now().isoformat(timespec='seconds')}  python {platform.python_version()}  "
          f"nproc {os.cpu_count()}  {platform.platform()}", flush=True)
    if not peer_ok:
        print(f"  peer: none ({'--no-peer' if args.no_peer else args.peer_python + ' missing; bench/run.sh builds it'})",
              flush=True)
    ours: dict[str, dict] = {}
    peer: dict[str, dict] = {}
    results: dict = {"mode": mode, "trackrun": {}, "peer": {}}
    for name, script in BENCHES:
        if only and name not in only:
            continue
        print(f"\n== {name}: trackrun", flush=True)
        t0 = time.perf_counter()
        res = run_bench(name, script, args.quick, sys.executable, peer=False)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
        if res:
            results["trackrun"][name] = res
            ours.update({f["key"]: f for f in res["figures"]})
        if peer_ok:
            print(f"== {name}: MLflow", flush=True)
            t0 = time.perf_counter()
            res = run_bench(name, script, args.quick, args.peer_python, peer=True)
            print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
            if res:
                results["peer"][name] = res
                peer.update({f["key"]: f for f in res["figures"]})
    per_run = ours.get("per_run_ms")
    if args.profile == "always" or (args.profile == "auto" and per_run and per_run["value"] is not None
                                    and per_run["value"] >= per_run["target"]):
        print("\n== profile of the per-run loop (per_run missed its target)" if args.profile == "auto"
              else "\n== profile of the per-run loop", flush=True)
        tmp = tempfile.mkdtemp(prefix="trackrun-bench-profile-")
        env = {k: v for k, v in os.environ.items() if k not in _UNSET}
        env["TRACKRUN_DBPATH"] = tmp
        subprocess.run([sys.executable, os.path.join(BENCH_DIR, "profile_per_run.py")]
                       + (["--quick"] if args.quick else []), env=env, cwd=tmp, timeout=TIMEOUT_S)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n== figures ({mode}; n = runs, iterations, points or stored runs; 'x better' compares like with like "
          f"only where n is equal, see the notes)\n", flush=True)
    print("\n".join(table(ours, peer)), flush=True)
    notes = [f"{f['label']}: {f['note']}" for f in list(ours.values()) + list(peer.values()) if f.get("note")]
    if notes:
        print("\nnotes:\n" + "\n".join(f"  - {n}" for n in notes), flush=True)
    if "mlflow" in json.dumps(results["peer"]):
        versions = {r["info"].get("mlflow") for r in results["peer"].values()}
        print(f"\nMLflow {', '.join(sorted(v for v in versions if v))} in {os.path.dirname(os.path.dirname(args.peer_python))}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
