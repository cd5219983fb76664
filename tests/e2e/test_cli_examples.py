"""The seed's command lines, run as a user types them (only `mlrun` changed to `trackrun`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of examples/ to run in, so relative paths behave as in the seed."""
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("__pycache__"))
    return work


def _cli(tmp_path: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TRACKRUN_DBPATH=str(tmp_path / "db"))
    env.pop("TRACKRUN_ARTIFACT_PATH", None)
    return subprocess.run([sys.executable, "-m", "trackrun", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _runs(tmp_path: Path, cwd: Path, *filters: str) -> list[dict]:
    out = _cli(tmp_path, cwd, "get", "runs", "--json", *filters)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_seed_run_with_s3_input_and_secrets_file(tmp_path, workdir, s3_bucket):
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=os.environ["S3_ENDPOINT_URL"], skip_instance_cache=True)
    fs.pipe(f"{s3_bucket}/infile.txt", b"read from the local S3 server\n")
    out = _cli(tmp_path, workdir, "run", "--name", "train", "-p", "p2=5", "-i",
               f"infile.txt={s3_bucket}/infile.txt", "-s", "file=secrets.txt", "training.py")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "read from the local S3 server" in out.stdout
    secret = "example-access-key-1234"
    assert secret not in out.stdout
    (run,) = _runs(tmp_path, workdir, "--name", "train")
    assert run["status"]["state"] == "completed"
    assert run["status"]["results"] == {"accuracy": 2, "loss": 3}  # p1 defaults to 1
    assert run["spec"]["parameters"]["p2"] == 5
    assert run["spec"]["inputs"]["infile.txt"] == f"{s3_bucket}/infile.txt"
    keys = {a["key"] for a in run["status"]["artifacts"]}
    assert keys == {"model", "html_result", "chart", "mydf"}
    log = _cli(tmp_path, workdir, "logs", run["metadata"]["uid"])
    assert "read from the local S3 server" in log.stdout and secret not in log.stdout
    assert secret not in json.dumps(run)


def test_seed_python_m_form_with_p1(tmp_path, workdir):
    out = _cli(tmp_path, workdir, "run", "-p", "p1=5", "-s", "file=secrets.txt", "-i", "infile.txt=infile.txt",
               "--dump", "training.py")
    assert out.returncode == 0, out.stderr[-2000:]
    dumped = yaml.safe_load(out.stdout)
    assert dumped["status"]["state"] == "completed"
    assert dumped["status"]["results"] == {"accuracy": 10, "loss": 15}


def test_seed_hyper_run_from_cli(tmp_path, workdir):
    out_path = tmp_path / "out"
    out = _cli(tmp_path, workdir, "run", "--name", "train_hyper", "-x", "p1=[3,7,5]", "-x", "p2=[5,2,9]",
               "--selector", "max.accuracy", "--out-path", str(out_path), "--dump", "training.py")
    assert out.returncode == 0, out.stderr[-2000:]
    parent = yaml.safe_load(out.stdout)
    table = parent["status"]["iterations"]
    assert len(table) == 10 and table[0][:4] == ["state", "iter", "param.p1", "param.p2"]
    # accuracy = 2 * p1: the first iteration with p1 = 7 is the best
    best = min(row[1] for row in table[1:] if row[2] == 7)
    assert parent["status"]["results"]["best_iteration"] == best
    assert parent["status"]["results"]["accuracy"] == 14
    assert all(str(p).startswith(str(out_path)) for p in
               [a["target_path"] for a in parent["status"]["artifacts"]])
    iterations = _runs(tmp_path, workdir, "--name", "train_hyper", "--iter")
    assert len(iterations) == 10


def test_xgb_iris_from_cli(tmp_path, workdir):
    gen = _cli(tmp_path, workdir, "run", "--name", "iris-gen", "--project", "iris", "--handler", "iris_generator",
               "--dump", "xgb_iris.py")
    assert gen.returncode == 0, gen.stderr[-2000:]
    dataset = next(a["uri"] for a in yaml.safe_load(gen.stdout)["status"]["artifacts"] if a["key"] == "iris_dataset")
    train = _cli(tmp_path, workdir, "run", "--name", "xgb-train", "--project", "iris", "--handler", "xgb_train",
                 "-i", f"dataset={dataset}", "-x", "eta=[0.05,0.10,0.20,0.30]", "-x", "max_depth=[3,4,5,6,8,10]",
                 "-x", "gamma=[0.0,0.1,0.2,0.3]", "--selector", "max.accuracy", "--parallel", "2", "--dump",
                 "xgb_iris.py")
    assert train.returncode == 0, train.stderr[-2000:]
    parent = yaml.safe_load(train.stdout)
    rows = parent["status"]["iterations"][1:]
    assert len(rows) == 96 and all(r[0] == "completed" for r in rows)
    header = parent["status"]["iterations"][0]
    acc = header.index("output.accuracy")
    assert parent["status"]["results"]["accuracy"] == max(r[acc] for r in rows)
    arts = _cli(tmp_path, workdir, "get", "artifacts", "--project", "iris", "--json")
    keys = {a["key"] for a in json.loads(arts.stdout)}
    assert {"iris-gen_iris_dataset", "xgb-train_model", "xgb-train_iteration_results"} <= keys
