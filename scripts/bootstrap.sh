#!/usr/bin/env bash
# Create .venv and install trackrun with every extra the examples and tests need. Idempotent and quick
# when nothing changed: uv installs from its cache in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "trackrun needs Python >= 3.11 (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
stamp=.venv/.trackrun-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode -e ".[all,dev]"
  touch "$stamp"
fi
