"""Pytest plugin: a local S3 server (moto) on 127.0.0.1 for tests that touch s3:// URLs.

Register it in tests/conftest.py with ``pytest_plugins = ["tests.fixtures_s3"]``. Fixtures:

* ``s3_server``: the endpoint URL (``http://127.0.0.1:PORT``); for the test's duration the environment
  holds fake credentials, ``AWS_DEFAULT_REGION=us-east-1`` and ``S3_ENDPOINT_URL`` pointing at it.
* ``s3_bucket``: a fresh, empty bucket on that server, as ``s3://<name>``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

_ENV_DROP = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN",
             "AWS_ENDPOINT_URL")
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    """Start one moto server for the whole session and stop it at the end."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_server(_moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The local S3 endpoint URL, with the environment set up to reach it (restored after the test)."""
    for name in _ENV_DROP:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("S3_ENDPOINT_URL", _moto_endpoint)
    # Nothing must leak to a real AWS endpoint even if a code path ignores S3_ENDPOINT_URL.
    monkeypatch.setenv("NO_PROXY", ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])))
    return _moto_endpoint


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A new empty bucket on the local S3 server, as ``s3://<name>``."""
    import s3fs

    name = f"test-bucket-{os.getpid()}-{next(_bucket_numbers)}"
    fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=s3_server, skip_instance_cache=True)
    fs.mkdir(name)
    return f"s3://{name}"
