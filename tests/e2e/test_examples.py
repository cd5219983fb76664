"""The examples end to end, as a user runs them: real subprocesses, a fresh store each."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ, TRACKRUN_DBPATH=str(tmp_path / "db"), **extra)
    env.pop("TRACKRUN_ARTIFACT_PATH", None)
    return env


def _trackrun(tmp_path: Path, *args: str, cwd: Path = EXAMPLES) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trackrun", *args], cwd=cwd, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=600)


def test_xgb_iris_example_from_python(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "xgb_iris.py")], env=_env(tmp_path, PARALLEL="2"),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "96 of 96 iterations ran, 96 completed, 0 failed" in out.stdout

    from trackrun.db import get_run_db

    db = get_run_db(str(tmp_path / "db"))
    parents = db.list_runs(project="iris", name="xgb-train")
    assert len(parents) == 1
    parent = parents[0]
    assert parent["status"]["state"] == "completed"
    table = parent["status"]["iterations"]
    header, rows = table[0], table[1:]
    assert header[:2] == ["state", "iter"]
    assert {"param.eta", "param.max_depth", "param.gamma", "output.accuracy"} <= set(header)
    assert len(rows) == 96
    acc = header.index("output.accuracy")
    best_value = max(r[acc] for r in rows)
    best_iter = min(r[1] for r in rows if r[acc] == best_value)  # ties go to the earliest
    assert parent["status"]["results"]["best_iteration"] == best_iter
    assert math.isclose(parent["status"]["results"]["accuracy"], best_value)
    # each iteration is its own record, with the same uid
    iterations = db.list_runs(project="iris", name="xgb-train", iter=True)
    assert len(iterations) == 97
    # the model of every iteration is versioned; the best one is flagged
    models = db.list_artifacts(project="iris", name="=xgb-train_model", tag="*")
    assert len(models) == 96 and all(m["kind"] == "model" for m in models)
    best = db.list_artifacts(project="iris", name="=xgb-train_model", tag="*", best_iteration=True)
    assert [m["iter"] for m in best] == [best_iter]
    assert best[0]["labels"]["framework"] == "xgboost"
    dataset = db.read_artifact("iris-gen_iris_dataset", project="iris")
    assert dataset["kind"] == "dataset" and dataset["length"] == 150
    assert dataset["stats"]["label"]["mean"] == pytest.approx(1.0)
    table_art = db.read_artifact("xgb-train_iteration_results", project="iris")
    assert Path(table_art["target_path"]).read_text().splitlines()[0].startswith("state,iter,")
