"""trackrun.datastore against real filesystems: local, memory://, a local HTTP server and a local S3 server."""

from __future__ import annotations

import functools
import http.server
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from trackrun.datastore import (
    DataItem,
    check_within,
    get_dataitem,
    join_url,
    normalize_url,
    parse_store_uri,
    split_scheme,
    store_uri,
    upload_file,
    write_bytes,
)
from trackrun.datastore.store_uri import StoreRef
from trackrun.errors import InvalidArgumentError, NotFoundError

# Loads the local S3 fixtures (s3_server, s3_bucket); harmless if tests/conftest.py registers them too.
pytest_plugins = ["tests.fixtures_s3"]

CSV = b"a,b,c\n1,x,0.5\n2,y,1.5\n3,z,2.5\n"


# -- import cost -----------------------------------------------------------------------------------------
def test_import_is_light() -> None:
    code = "import sys, trackrun.datastore; print(sorted(m for m in ('fsspec', 's3fs', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


# -- paths -----------------------------------------------------------------------------------------------
def test_normalize_url_local_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_url("data/x.csv") == str(tmp_path / "data" / "x.csv")
    assert normalize_url("./a/../b.csv") == str(tmp_path / "b.csv")
    assert normalize_url("x.csv", base_dir="/srv/base") == "/srv/base/x.csv"
    assert normalize_url("/abs/x.csv", base_dir="/srv/base") == "/abs/x.csv"
    assert normalize_url("file:///abs/x.csv") == "/abs/x.csv"
    assert normalize_url("file://localhost/abs/x.csv") == "/abs/x.csv"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert normalize_url("~/x.csv") == str(tmp_path / "home" / "x.csv")
    for url in ("s3://b/k/../x", "http://h:1/a?b=c", "memory://m/x", "store://p/k"):
        assert normalize_url(url) == url
    assert normalize_url("rel.csv", base_dir="s3://bucket/dir") == "s3://bucket/dir/rel.csv"
    with pytest.raises(InvalidArgumentError, match="empty"):
        normalize_url("  ")


def test_split_and_join() -> None:
    assert split_scheme("S3://b/k") == ("s3", "b/k")
    assert split_scheme("/a/b") == ("", "/a/b")
    assert split_scheme("file:/a") == ("file", "/a")
    assert join_url("s3://b/dir", "a", "x.csv") == "s3://b/dir/a/x.csv"
    assert join_url("s3://b/dir/", "/a/", "x.csv") == "s3://b/dir/a/x.csv"
    assert join_url("/root", "/etc", "", "p") == "/root/etc/p"
    assert join_url("http://h/base") == "http://h/base"


def test_check_within(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "ok").mkdir(parents=True)
    assert check_within(str(root), "plots/roc.png") == str(root / "plots" / "roc.png")
    assert check_within(str(root), "a/../b") == str(root / "b")
    assert check_within(str(root), str(root / "ok" / "f")) == str(root / "ok" / "f")
    with pytest.raises(InvalidArgumentError, match=r"'x/\.\./\.\./etc' escapes the artifact root .*without '\.\.'"):
        check_within(str(root), "x/../../etc")
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within(str(root), "/etc/passwd")
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within(str(root), str(tmp_path / "rootsibling"))  # shares the prefix, not the folder
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InvalidArgumentError, match="symlink"):
        check_within(str(root), "link/secret.txt")
    # URLs: '..' folded with posix rules, other buckets/hosts refused.
    assert check_within("s3://b/arts", "p/k.csv") == "s3://b/arts/p/k.csv"
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within("s3://b/arts", "../other/k")
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within("s3://b/arts", "s3://c/arts/k")
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within("s3://b/arts", "s3://b/artsy/k")
    assert check_within("memory://m/arts", "a/b") == "memory://m/arts/a/b"
    with pytest.raises(InvalidArgumentError, match="escapes"):
        check_within("memory://m", "../n/b")


# -- store URIs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("uri", "ref"), [
    ("store://artifacts/proj/model", StoreRef("proj", "model")),
    ("store://proj/model", StoreRef("proj", "model")),
    ("store://datasets/proj/data/train.csv", StoreRef("proj", "data/train.csv")),
    ("store://models/proj/m", StoreRef("proj", "m")),
    ("store://artifacts/proj/plots/roc#3", StoreRef("proj", "plots/roc", iter=3)),
    ("store://artifacts/proj/plots/roc:v1.2", StoreRef("proj", "plots/roc", tag="v1.2")),
    ("store://artifacts/proj/plots/roc@abc123", StoreRef("proj", "plots/roc", uid="abc123")),
    ("store://artifacts/proj/k#0:latest@u1", StoreRef("proj", "k", iter=0, tag="latest", uid="u1")),
    ("store://artifacts/key", StoreRef("artifacts", "key")),  # short form, project named 'artifacts'
])
def test_parse_store_uri(uri: str, ref: StoreRef) -> None:
    parsed = parse_store_uri(uri)
    assert parsed == ref
    assert parse_store_uri(store_uri(parsed.project, parsed.key, parsed.iter, parsed.tag, parsed.uid)) == ref


@pytest.mark.parametrize("uri", [
    "s3://b/k", "store://", "store://proj", "store://proj/", "store://artifacts/proj/",
    "store://proj/k:tag#1", "store://proj/k@u:tag", "store://proj/k#x", "store://proj/k:a:b",
    "store://proj/a//b", "store://proj/a/../b", "store://proj/k with space",
])
def test_parse_store_uri_malformed(uri: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"invalid artifact URI .*write it like store://artifacts/"):
        parse_store_uri(uri)


def test_store_uri_build() -> None:
    assert store_uri("p", "plots/roc") == "store://artifacts/p/plots/roc"
    assert store_uri("p", "k", iter=2, tag="best", uid="u9") == "store://artifacts/p/k#2:best@u9"
    assert str(parse_store_uri("store://p/k:t")) == "store://artifacts/p/k:t"
    for kwargs in ({"project": "a/b", "key": "k"}, {"project": "p", "key": "k#1"}, {"project": "", "key": "k"},
                   {"project": "p", "key": "k", "iter": -1}, {"project": "p", "key": "k", "tag": "a:b"},
                   {"project": "p", "key": "/k"}):
        with pytest.raises(InvalidArgumentError):
            store_uri(**kwargs)


# -- local files -----------------------------------------------------------------------------------------
def test_local_read_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    item = get_dataitem("sub/dir/data.txt")
    assert item.url == str(tmp_path / "sub" / "dir" / "data.txt")
    assert (item.key, item.kind, item.suffix, item.meta) == ("data.txt", "file", ".txt", None)
    assert item.artifact_url == item.url and str(item) == item.url
    assert repr(item) == f"DataItem(key='data.txt', url='{item.url}')"
    assert not item.exists()
    item.put("hello ")  # parents created
    item.put(b"world", append=True)
    assert item.get() == b"hello world"
    assert item.get(encoding="utf-8") == "hello world"
    assert item.get(size=5) == b"hello"
    assert item.get(offset=6) == b"world"
    assert item.get(offset=6, size=3, encoding="ascii") == "wor"
    assert item.get(size=0) == b""
    assert item.local() == item.url
    # same file through other spellings, from another working directory
    monkeypatch.chdir("/")
    assert get_dataitem(f"file://{item.url}").get() == b"hello world"
    assert get_dataitem("dir/data.txt", base_dir=str(tmp_path / "sub")).get() == b"hello world"
    assert get_dataitem(item.url, key="mine").key == "mine"
    st = item.stat()
    assert st.size == 11 and st.modified is not None and abs(st.modified.timestamp() - time.time()) < 60
    folder = get_dataitem(str(tmp_path / "sub"))
    (tmp_path / "sub" / "z.bin").write_bytes(b"z")
    assert folder.listdir() == ["dir/", "z.bin"]
    with item.open("rb") as fh:
        assert fh.read(5) == b"hello"
    with get_dataitem(str(tmp_path / "new" / "o.txt")).open("wb") as fh:
        fh.write(b"opened")
    assert (tmp_path / "new" / "o.txt").read_bytes() == b"opened"
    item.delete()
    assert not item.exists()
    item.delete()  # already gone: no error


def test_local_missing_and_bad(tmp_path: Path) -> None:
    missing = get_dataitem(str(tmp_path / "nope.csv"))
    for call in (missing.get, missing.local, missing.as_df, missing.stat, missing.listdir):
        with pytest.raises(NotFoundError, match=f"no data at {tmp_path}/nope.csv"):
            call()
    with pytest.raises(NotFoundError):
        missing.download(str(tmp_path / "copy"))
    with pytest.raises(InvalidArgumentError, match="directory"):
        get_dataitem(str(tmp_path)).get()
    with pytest.raises(InvalidArgumentError, match="unsupported URL scheme 'gs://'.*s3://"):
        get_dataitem("gs://bucket/x")
    (tmp_path / "f.xlsx").write_bytes(b"x")
    with pytest.raises(InvalidArgumentError, match="format 'xlsx'; pass format= one of csv"):
        get_dataitem(str(tmp_path / "f.xlsx")).as_df()
    with pytest.raises(InvalidArgumentError, match=r"-1"):
        get_dataitem(str(tmp_path / "f.xlsx")).get(offset=-1)


def test_local_as_df(tmp_path: Path) -> None:
    csv = get_dataitem(str(tmp_path / "t.csv"))
    csv.put(CSV)
    df = csv.as_df()
    assert list(df.columns) == ["a", "b", "c"] and df["a"].tolist() == [1, 2, 3]
    assert list(csv.as_df(columns=["c", "a"]).columns) == ["c", "a"]
    with pytest.raises(InvalidArgumentError, match=r"no column\(s\) \['zz'\]"):
        csv.as_df(columns=["zz"])
    pq = get_dataitem(str(tmp_path / "t.parquet"))
    df.to_parquet(pq.url)
    assert pq.as_df().equals(df)
    assert list(pq.as_df(columns=["b"]).columns) == ["b"]
    same = get_dataitem(str(tmp_path / "t.bin"))
    df.to_parquet(same.url)
    assert same.as_df(format="pq").equals(df)
    tsv = get_dataitem(str(tmp_path / "t.tsv"))
    tsv.put(CSV.replace(b",", b"\t"))
    assert tsv.as_df().equals(df)
    js = get_dataitem(str(tmp_path / "t.json"))
    df.to_json(js.url, orient="records")
    assert js.as_df()["b"].tolist() == ["x", "y", "z"]
    gz = get_dataitem(str(tmp_path / "t.csv.gz"))
    df.to_csv(gz.url, index=False)
    assert gz.as_df().equals(df)


def test_write_bytes_and_upload_file_atomic(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "body.bin"
    write_bytes(str(target), b"one")
    assert target.read_bytes() == b"one"
    write_bytes(str(target), b"two")
    assert target.read_bytes() == b"two"
    assert sorted(os.listdir(target.parent)) == ["body.bin"]  # no temp files left behind
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's owner-only mode

    class Boom(Exception):
        pass

    # A failing body leaves the old file whole and no temp file.
    from trackrun.datastore.dataitem import _atomic_local_write

    def half(fh: io.BufferedWriter) -> None:
        fh.write(b"partial")
        raise Boom

    with pytest.raises(Boom):
        _atomic_local_write(str(target), half)
    assert target.read_bytes() == b"two"
    assert sorted(os.listdir(target.parent)) == ["body.bin"]

    src = tmp_path / "src.csv"
    src.write_bytes(CSV)
    upload_file(str(src), f"file://{tmp_path}/up/x.csv")
    assert (tmp_path / "up" / "x.csv").read_bytes() == CSV
    item = get_dataitem(str(tmp_path / "up2" / "y.csv"))
    item.upload(str(src))
    assert item.get() == CSV
    item.download(str(tmp_path / "down" / "z.csv"))
    assert (tmp_path / "down" / "z.csv").read_bytes() == CSV
    with pytest.raises(NotFoundError, match="no such file"):
        upload_file(str(tmp_path / "missing"), str(tmp_path / "t"))
    with pytest.raises(InvalidArgumentError, match="directory"):
        write_bytes(str(tmp_path / "a"), b"x")


# -- memory:// -------------------------------------------------------------------------------------------
def test_memory_round_trip(tmp_path: Path) -> None:
    base = f"memory://tests-{uuid.uuid4().hex}"
    item = get_dataitem(f"{base}/dir/t.csv")
    assert (item.kind, item.suffix, item.key) == ("memory", ".csv", "t.csv")
    assert not item.exists()
    with pytest.raises(NotFoundError, match=f"no data at {base}/dir/t.csv"):
        item.get()
    item.put(CSV[:10])
    item.put(CSV[10:], append=True)
    assert item.get() == CSV and item.get(offset=2, size=3) == CSV[2:5]
    assert item.stat().size == len(CSV)
    local = item.local()
    assert local.endswith(".csv") and Path(local).read_bytes() == CSV
    assert item.local() == local
    assert item.as_df()["a"].tolist() == [1, 2, 3]
    write_bytes(f"{base}/dir/other.bin", b"o")
    assert get_dataitem(f"{base}/dir").listdir() == ["other.bin", "t.csv"]
    item.delete()
    assert not item.exists() and not os.path.exists(local)


# -- http(s):// ------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temp folder; yields (base URL, folder)."""
    root = tmp_path_factory.mktemp("http")
    (root / "t.csv").write_bytes(CSV)
    (root / "text.txt").write_bytes("héllo wörld".encode())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_read(http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    item = get_dataitem(f"{base}/text.txt")
    assert (item.kind, item.suffix) == ("http", ".txt")
    assert item.get(encoding="utf-8") == "héllo wörld"
    # http.server ignores Range headers: the slice must still be right.
    assert item.get(size=5) == "héllo".encode()[:5]
    assert item.get(offset=7) == "héllo wörld".encode()[7:]
    assert item.get(offset=1, size=2) == "héllo wörld".encode()[1:3]
    whole = "héllo wörld".encode()
    assert item.get(offset=1, size=len(whole)) == whole[1:]
    assert item.get(offset=0, size=len(whole) + 5) == whole
    assert item.stat().size == len("héllo wörld".encode())
    with pytest.raises(NotFoundError, match=f"no data at {base}/missing.csv"):
        get_dataitem(f"{base}/missing.csv").get()


def test_http_local_and_df(http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    item = get_dataitem(f"{base}/t.csv?version=1")
    assert item.suffix == ".csv"
    local = item.local()
    assert local.endswith(".csv") and Path(local).read_bytes() == CSV
    assert item.local() == local  # downloaded once
    df = item.as_df()
    assert df.shape == (3, 3) and df["b"].tolist() == ["x", "y", "z"]


def test_http_is_read_only(http_root: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_root
    item = get_dataitem(f"{base}/t.csv")
    for call in (lambda: item.put(b"x"), lambda: item.delete(), lambda: item.open("wb"),
                 lambda: write_bytes(f"{base}/n.bin", b"x")):
        with pytest.raises(InvalidArgumentError, match=r"http\(s\) URLs are read-only"):
            call()
    assert (root / "t.csv").read_bytes() == CSV


# -- s3:// -----------------------------------------------------------------------------------------------
def test_s3_round_trip(s3_bucket: str, tmp_path: Path) -> None:
    url = f"{s3_bucket}/data/t.csv"
    write_bytes(url, CSV)
    item = get_dataitem(url)
    assert (item.kind, item.suffix, item.key) == ("s3", ".csv", "t.csv")
    assert item.exists()
    assert item.get() == CSV
    assert item.get(offset=6, size=5) == CSV[6:11]
    local = item.local()
    assert local.endswith(".csv") and Path(local).read_bytes() == CSV and item.local() == local
    assert item.as_df(columns=["a"])["a"].tolist() == [1, 2, 3]
    st = item.stat()
    assert st.size == len(CSV) and st.modified is not None

    src = tmp_path / "frame.parquet"
    pd.read_csv(io.BytesIO(CSV)).to_parquet(src)
    upload_file(str(src), f"{s3_bucket}/data/frame.parquet")
    assert get_dataitem(f"{s3_bucket}/data/frame.parquet").as_df()["c"].tolist() == [0.5, 1.5, 2.5]
    write_bytes(f"{s3_bucket}/data/nested/n.txt", b"n")
    assert get_dataitem(f"{s3_bucket}/data").listdir() == ["frame.parquet", "nested/", "t.csv"]

    item.put(b"more", append=True)
    assert item.get().endswith(b"\nmore")
    item.download(str(tmp_path / "dl" / "t.csv"))
    assert (tmp_path / "dl" / "t.csv").read_bytes() == CSV + b"more"
    item.delete()
    assert not item.exists()
    with pytest.raises(NotFoundError, match=f"no data at {s3_bucket}/data/t.csv"):
        item.get()


def test_s3_secrets_override_environment(s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = os.environ["S3_ENDPOINT_URL"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    secrets = {"AWS_ACCESS_KEY_ID": "k2", "AWS_SECRET_ACCESS_KEY": "s2", "S3_ENDPOINT_URL": endpoint}
    write_bytes(f"{s3_bucket}/s.txt", b"secret", secrets=secrets)
    assert get_dataitem(f"{s3_bucket}/s.txt", secrets=secrets).get() == b"secret"
    with pytest.raises(InvalidArgumentError, match="names no bucket"):
        get_dataitem("s3://").get()


# -- store:// --------------------------------------------------------------------------------------------
class _OneRecordDB:
    """The caller-supplied DB interface get_dataitem needs: just read_artifact."""

    def __init__(self, record: dict):
        self.record = record
        self.calls: list[tuple] = []

    def read_artifact(self, key: str, tag: str = "", iter: int | None = None, project: str = "",
                      tree: str = "", uid: str = "") -> dict:
        self.calls.append((key, tag, iter, project, uid))
        if (project, key) != (self.record["project"], self.record["key"]):
            raise NotFoundError(f"artifact {project}/{key} not found")
        return self.record


def test_store_uri_resolution(tmp_path: Path) -> None:
    body = tmp_path / "arts" / "p" / "plots" / "roc.csv"
    body.parent.mkdir(parents=True)
    body.write_bytes(CSV)
    record = {"key": "plots/roc", "project": "p", "kind": "table", "target_path": str(body), "uid": "u1"}
    db = _OneRecordDB(record)
    uri = "store://artifacts/p/plots/roc#0:latest"
    item = get_dataitem(uri, db=db)
    assert db.calls == [("plots/roc", "latest", 0, "p", "")]
    assert (item.kind, item.key, item.url, item.artifact_url) == ("store", "plots/roc", str(body), uri)
    assert item.meta is record and item.suffix == ".csv"
    assert item.get() == CSV and item.as_df().shape == (3, 3)
    assert get_dataitem("store://p/plots/roc@u1", db=db).get(size=5) == CSV[:5]
    with pytest.raises(NotFoundError, match="artifact p/nope not found"):
        get_dataitem("store://p/nope", db=db)
    body.unlink()
    with pytest.raises(NotFoundError, match=rf"no data at {body} \(artifact {uri}\)"):
        item.get()
    with pytest.raises(InvalidArgumentError, match="no target_path"):
        get_dataitem("store://p/plots/roc", db=_OneRecordDB({**record, "target_path": ""}))


def test_dataitem_passthrough() -> None:
    item = DataItem("k", "memory://x/y.bin")
    assert get_dataitem(item) is item
