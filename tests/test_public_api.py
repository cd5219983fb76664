"""The public API: every exported name resolves, and ``import trackrun`` stays light."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

import trackrun

HEAVY = ("sqlalchemy", "pandas", "fsspec", "pydantic", "alembic", "numpy", "matplotlib", "s3fs")


@pytest.mark.parametrize("name", trackrun.__all__)
def test_exported_name_resolves(name):
    value = getattr(trackrun, name)
    assert value is not None
    if name != "__version__":
        assert getattr(value, "__module__", "").startswith("trackrun") or name == "mlconf"


def test_all_is_sorted_unique_and_matches_dir():
    assert trackrun.__all__ == sorted(set(trackrun.__all__))
    assert set(dir(trackrun)) == set(trackrun.__all__)
    for name in ("run_local", "new_task", "NewTask", "new_function", "get_or_create_ctx", "get_run_db",
                 "RunObject", "RunError", "get_dataitem"):
        assert name in trackrun.__all__


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'"):
        trackrun.not_a_thing  # noqa: B018


def test_version_matches_the_package_metadata():
    assert trackrun.__version__ == importlib.metadata.version("trackrun")


def _modules_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", [
    "import trackrun",
    "import trackrun; trackrun.__version__; dir(trackrun)",
    "from trackrun.artifacts import ChartArtifact, PlotArtifact, DatasetArtifact",
    "from trackrun import NewTask, new_task; new_task(params={'a': 1}).with_hyper_params({'p': [1, 2]}, 'max.a')",
])
def test_import_stays_light(statement):
    loaded = _modules_after(statement)
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert heavy == [], f"{statement!r} imported {heavy}"


def test_exported_names_import_without_the_heavy_data_libraries():
    loaded = _modules_after("import trackrun\nfor name in trackrun.__all__: getattr(trackrun, name)")
    for name in ("pandas", "matplotlib", "pydantic", "s3fs"):
        assert name not in loaded
