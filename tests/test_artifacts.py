"""Artifacts logged by real runs and read back from the store and from their bodies: every kind, versions,
content-addressed bodies, store:// inputs, keys with folders, refused keys and paths, s3:// and memory://."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trackrun import DataItem, get_dataitem, run_local
from trackrun.artifacts import (
    ChartArtifact,
    DatasetArtifact,
    HtmlArtifact,
    LinkArtifact,
    PlotArtifact,
    TableArtifact,
)
from trackrun.errors import InvalidArgumentError

PNG = b"\x89PNG\r\n\x1a\n"
FRAME = pd.DataFrame({"name": ["a", "b", "c", "d"], "age": [30, 40, 50, 60], "score": [0.5, 0.25, 1.0, 0.75]})


def _body(record: dict) -> bytes:
    return get_dataitem(record["target_path"]).get()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_every_kind_is_logged_and_read_back(db, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01weights")

    def handler(context):
        context.log_artifact("plain", body=b"plain body", labels={"a": 1})
        context.log_artifact("fromfile", local_path=str(source))
        context.log_model("model", body=b"model bytes", model_file="model.pkl", framework="sklearn",
                          metrics={"accuracy": np.float64(0.875)}, parameters={"depth": 3})
        context.log_dataset("ds", df=FRAME, format="parquet", preview=2)
        chart = ChartArtifact("chart", header=["epoch", "loss"])
        for epoch in range(1, 4):
            chart.add_row([epoch, 1.0 / epoch])
        context.log_artifact(chart)
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        context.log_artifact(PlotArtifact("plot", body=fig))
        plt.close(fig)
        context.log_artifact(TableArtifact("table", header=["x", "y"], rows=[[1, "one"], [2, "two"]]))
        context.log_artifact(TableArtifact("frame", df=FRAME))
        context.log_artifact(HtmlArtifact("page", body="<h1>report</h1>"))
        context.log_artifact("page2", body=b"<p>x</p>", format="html")
        plain = context.artifacts[0]
        context.log_artifact(LinkArtifact("link", target_path=plain["target_path"], link_key="plain"))

    run = run_local(handler=handler, name="art")
    stored = {a["key"]: a for a in db.list_artifacts(name="art_")}
    assert set(stored) == {"art_plain", "art_fromfile", "art_model", "art_ds", "art_chart", "art_plot",
                           "art_table", "art_frame", "art_page", "art_page2", "art_link"}
    assert {a["key"] for a in run.status["artifacts"]} == {k[len("art_"):] for k in stored}
    for art in stored.values():
        assert art["tree"] == run.uid() and art["producer"]["name"] == "art" and art["iter"] == 0

    plain = stored["art_plain"]
    assert plain["kind"] == "artifact" and plain["labels"] == {"a": "1"}
    assert _body(plain) == b"plain body"
    assert plain["hash"] == hashlib.sha256(b"plain body").hexdigest() and plain["size"] == 10

    fromfile = stored["art_fromfile"]
    assert _body(fromfile) == b"\x00\x01weights" and Path(fromfile["target_path"]).name == "weights.bin"
    assert fromfile["format"] == "bin"

    model = stored["art_model"]
    assert model["kind"] == "model" and model["framework"] == "sklearn"
    assert model["labels"]["framework"] == "sklearn"
    assert model["metrics"] == {"accuracy": 0.875} and model["parameters"] == {"depth": 3}
    assert Path(model["target_path"]).name == "model.pkl" and _body(model) == b"model bytes"

    ds = stored["art_ds"]
    assert ds["kind"] == "dataset" and ds["format"] == "parquet"
    assert ds["length"] == 4 and ds["header"] == ["name", "age", "score"]
    assert [f["name"] for f in ds["schema"]["fields"]] == ["name", "age", "score"]
    assert ds["preview"] == [["a", 30, 0.5], ["b", 40, 0.25]]
    assert ds["stats"]["age"]["mean"] == 45 and ds["stats"]["name"]["unique"] == 4
    back = pd.read_parquet(io.BytesIO(_body(ds)))
    pd.testing.assert_frame_equal(back, FRAME)
    assert run.artifact("ds").as_df()["score"].tolist() == [0.5, 0.25, 1.0, 0.75]

    chart = stored["art_chart"]
    assert chart["kind"] == "chart" and chart["header"] == ["epoch", "loss"]
    assert chart["rows"] == [[1, 1.0], [2, 0.5], [3, 1.0 / 3]]
    assert b"<html" in _body(chart).lower() and chart["format"] == "html"

    plot = stored["art_plot"]
    assert plot["kind"] == "plot" and plot["format"] == "png"
    assert _body(plot).startswith(PNG) and plot["size"] > 1000

    table = stored["art_table"]
    assert table["kind"] == "table" and table["header"] == ["x", "y"]
    assert _body(table) == b"x,y\n1,one\n2,two\n"
    frame = stored["art_frame"]
    assert frame["header"] == ["name", "age", "score"]
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(_body(frame))), FRAME)

    for key, text in (("art_page", b"<h1>report</h1>"), ("art_page2", b"<p>x</p>")):
        assert stored[key]["kind"] == "html" and _body(stored[key]) == text

    link = stored["art_link"]
    assert link["kind"] == "link" and link["link_key"] == "plain"
    assert link["target_path"] == plain["target_path"] and _body(link) == b"plain body"


def test_versions_latest_and_identical_bodies_stored_once(db, dbpath):
    def log(context, text: str = ""):
        context.log_artifact("model", body=text.encode(), local_path="model.txt")

    first = run_local(handler=log, name="v", params={"text": "same"})
    second = run_local(handler=log, name="v", params={"text": "same"})
    versions = db.list_artifacts(name="=v_model", tag="*")
    assert len(versions) == 2
    assert {a["tree"] for a in versions} == {first.uid(), second.uid()}
    assert db.read_artifact("v_model")["tree"] == second.uid()
    assert versions[0]["target_path"] == versions[1]["target_path"]
    folder = dbpath / "artifacts" / "default" / "model"
    assert len(_files(folder)) == 1
    third = run_local(handler=log, name="v", params={"text": "different"})
    assert len(db.list_artifacts(name="=v_model", tag="*")) == 3
    latest = db.read_artifact("v_model")
    assert latest["tree"] == third.uid() and _body(latest) == b"different"
    assert len(_files(folder)) == 2
    assert [a["tree"] for a in db.list_artifacts(name="=v_model")] == [third.uid()]
    # the older versions stay readable
    older = db.read_artifact("v_model", tree=first.uid())
    assert _body(older) == b"same"


def test_dataset_uri_as_input_of_a_later_run(db):
    def produce(context):
        context.log_dataset("table", df=FRAME)

    def consume(context, data: DataItem, frame: pd.DataFrame):
        df = data.as_df()
        return {"rows": len(df), "mean_age": float(df["age"].mean()), "same": frame.equals(df),
                "kind": data.kind}

    produced = run_local(handler=produce, name="gen")
    uri = produced.outputs["table"]
    assert uri.startswith("store://artifacts/default/gen_table")
    consumed = run_local(handler=consume, inputs={"data": uri, "frame": uri})
    assert consumed.status["results"] == {"rows": 4, "mean_age": 45.0, "same": True, "kind": "store"}
    assert db.read_run(consumed.uid())["spec"]["inputs"]["data"] == uri
    assert get_dataitem(uri).as_df().shape == (4, 3)
    assert get_dataitem("store://artifacts/default/gen_table").as_df().shape == (4, 3)  # latest


def test_key_with_folders_end_to_end(db, dbpath):
    def handler(context):
        context.log_artifact("plots/roc", body=b"roc curve", format="txt")

    run = run_local(handler=handler, name="f")
    record = db.read_artifact("f_plots/roc")
    target = Path(record["target_path"])
    assert target.is_relative_to(dbpath / "artifacts" / "default" / "plots" / "roc")
    assert target.read_bytes() == b"roc curve"
    assert run.artifact("plots/roc").get() == b"roc curve"
    assert get_dataitem(run.status["artifacts"][0]["uri"]).get() == b"roc curve"
    assert [a["key"] for a in db.list_artifacts(name="plots/")] == ["f_plots/roc"]


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../../b", "a/./b", "a//b", "a/", "", "x:y", "a\\b", "..", "a/.."])
def test_keys_escaping_the_root_are_refused_and_nothing_is_written(db, tmp_path, key):
    arts = tmp_path / "arts"
    caught = []

    def handler(context):
        for attempt in (lambda: context.log_artifact(key, body=b"x"),
                        lambda: context.log_artifact(TableArtifact(key, header=["a"], rows=[[1]])),
                        lambda: context.log_dataset(key, df=FRAME)):
            try:
                attempt()
            except InvalidArgumentError as exc:
                caught.append(str(exc))

    run = run_local(handler=handler, artifact_path=str(arts))
    assert len(caught) == 3 and all("key" in message for message in caught), caught
    assert run.state() == "completed"
    assert db.list_artifacts(tag="*") == []
    assert _files(arts) == [] and _files(tmp_path / "x") == [] and not Path("/abs").exists()
    assert not (tmp_path / "b").exists()


def test_relative_target_path_is_refused_and_absolute_one_used(db, tmp_path):
    caught = []

    def handler(context):
        try:
            context.log_artifact("rel", body=b"x", target_path="some/rel/file.txt")
        except InvalidArgumentError as exc:
            caught.append(str(exc))
        context.log_artifact("abs", body=b"exact place", target_path=str(tmp_path / "exact" / "file.txt"))

    run = run_local(handler=handler, name="t", artifact_path=str(tmp_path / "arts"))
    assert len(caught) == 1 and "target_path" in caught[0]
    assert (tmp_path / "exact" / "file.txt").read_bytes() == b"exact place"
    assert db.read_artifact("t_abs")["target_path"] == str(tmp_path / "exact" / "file.txt")
    assert [a["key"] for a in db.list_artifacts(tag="*")] == ["t_abs"]
    assert not Path("some").exists()
    assert run.state() == "completed"


def test_missing_local_path_is_an_error(db, tmp_path):
    def handler(context):
        context.log_artifact("gone", local_path=str(tmp_path / "nothing.bin"))

    with pytest.raises(Exception, match="nothing.bin"):
        run_local(handler=handler)
    assert db.list_artifacts(tag="*") == []


def _log_kinds(context):
    context.log_artifact("blob", body=b"remote body")
    context.log_artifact("blob", body=b"remote body")  # same content: one object
    context.log_dataset("ds", df=FRAME)
    context.log_artifact("plots/roc", body=b"roc")


def test_artifact_path_on_s3(db, s3_bucket):
    import s3fs

    run = run_local(handler=_log_kinds, name="s3", artifact_path=f"{s3_bucket}/arts/{{{{run.project}}}}")
    blob = db.read_artifact("s3_blob")
    assert blob["target_path"].startswith(f"{s3_bucket}/arts/default/blob/")
    assert run.artifact("blob").get() == b"remote body"
    assert run.artifact("plots/roc").get() == b"roc"
    assert run.artifact("ds").as_df().equals(FRAME)
    assert get_dataitem(run.outputs["ds"]).as_df()["age"].tolist() == [30, 40, 50, 60]
    import os

    fs = s3fs.S3FileSystem(endpoint_url=os.environ["S3_ENDPOINT_URL"], key="testing", secret="testing",
                           skip_instance_cache=True)
    objects = fs.find(f"{s3_bucket[len('s3://'):]}/arts")
    assert len(objects) == 3, objects
    assert len(db.list_artifacts(name="=s3_blob", tag="*")) == 2


def test_artifact_path_in_memory(db):
    root = f"memory://trackrun-test-{uuid.uuid4().hex[:8]}"
    run = run_local(handler=_log_kinds, name="mem", artifact_path=root)
    blob = db.read_artifact("mem_blob")
    assert blob["target_path"].startswith(f"{root}/blob/")
    assert get_dataitem(blob["target_path"]).get() == b"remote body"
    assert run.artifact("ds").as_df().equals(FRAME)
    assert run.artifact("plots/roc").get() == b"roc"
    assert DatasetArtifact is not None
