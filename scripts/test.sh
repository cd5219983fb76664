#!/usr/bin/env bash
# The whole test suite: set up .venv (first time only), make sure the services the tests use are up
# (PostgreSQL on 127.0.0.1:5432), lint, then run pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
.venv/bin/ruff check .
set +e
.venv/bin/pytest -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
  exit 1
fi
exit "$code"
