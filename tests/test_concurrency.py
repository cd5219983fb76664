"""Many processes tracking runs into one embedded store at the same time: every write lands, nobody sees
"database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PROCESSES = 6
RUNS_EACH = 50

WORKER = """
    import os
    import sys
    import time

    import trackrun

    worker, go = int(sys.argv[1]), sys.argv[2]


    def handler(context, i: int = 0):
        print(f"worker {worker} run {i}")
        context.log_result("i", i)
        context.log_results({"worker": worker, "score": worker * 1000 + i})
        context.log_metric("loss", 1.0 / (i + 1), step=i)
        context.log_artifact("shared", body=f"{worker}-{i}".encode(), db_key="shared")
        context.log_artifact("model", body=b"identical in every run")


    trackrun.get_run_db()  # open (and migrate) before the start line
    while not os.path.exists(go):  # all workers start their runs together
        time.sleep(0.005)
    for i in range(int(sys.argv[3])):
        trackrun.run_local(handler=handler, name=f"w{worker}", params={"i": i}, labels={"worker": worker})
    print("worker done", worker)
"""


def test_processes_write_runs_and_artifacts_at_once(db, dbpath, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    go = tmp_path / "go"
    env = {**os.environ, "TRACKRUN_DBPATH": str(dbpath)}
    procs = [subprocess.Popen([sys.executable, str(script), str(n), str(go), str(RUNS_EACH)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for n in range(PROCESSES)]
    time.sleep(0.3)
    go.write_text("go")
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        outputs.append(out)
    for n, (proc, out) in enumerate(zip(procs, outputs, strict=True)):
        assert proc.returncode == 0, out[-3000:]
        assert f"worker done {n}" in out
        lowered = out.lower()
        assert "locked" not in lowered and "could not" not in lowered and "traceback" not in lowered, out[-3000:]

    total = PROCESSES * RUNS_EACH
    assert db.count_runs() == total
    runs = db.list_runs()
    assert len(runs) == total
    assert all(r["status"]["state"] == "completed" for r in runs)
    for n in range(PROCESSES):
        mine = db.list_runs(name=f"w{n}", labels=f"worker={n}")
        assert sorted(r["status"]["results"]["i"] for r in mine) == list(range(RUNS_EACH))
        assert all(r["status"]["results"]["score"] == n * 1000 + r["status"]["results"]["i"] for r in mine)
        assert len(db.list_artifacts(name=f"=w{n}_model", tag="*")) == RUNS_EACH
    assert len(db.list_runs(sort_by="-results.score", last=1)) == 1
    assert db.list_runs(sort_by="-results.score", last=1)[0]["status"]["results"]["score"] == \
        (PROCESSES - 1) * 1000 + RUNS_EACH - 1

    shared = db.list_artifacts(name="=shared", tag="*")
    assert len(shared) == total
    assert len({a["uid"] for a in shared}) == total
    assert len(db.list_artifacts(name="=shared")) == 1  # exactly one version carries `latest`
    bodies = {Path(a["target_path"]).read_bytes() for a in shared}
    assert len(bodies) == total
    # identical bodies were written once, whoever logged them
    model_files = [p for p in (dbpath / "artifacts" / "default" / "model").rglob("*") if p.is_file()]
    assert len(model_files) == 1

    sample = runs[0]
    uid = sample["metadata"]["uid"]
    worker, i = sample["status"]["results"]["worker"], sample["status"]["results"]["i"]
    assert f"worker {worker} run {i}" in db.get_log(uid)[1].decode()
    assert db.list_metrics(uid)["loss"][0][:2] == (i, 1.0 / (i + 1))
