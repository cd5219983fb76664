#!/usr/bin/env bash
# Run trackrun's benchmarks, and the same workloads on MLflow in a separate virtualenv (bench/.peer-venv,
# built here on first use with uv), printing each figure and a table with the ratios and targets.
#
#   bench/run.sh            the full sizes (about 10 minutes on 2 cores; more on the first run, which
#                           builds the peer venv and the cached 100k-run database)
#   bench/run.sh --quick    small sizes, a smoke check
#   other options go to run_all.py: --only per_run,list  --no-peer  --profile always  --json FILE
#
# Environment: TRACKRUN_BENCH_PYTHON (default .venv/bin/python), PEER_MLFLOW (default mlflow==3.17.2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PY="${TRACKRUN_BENCH_PYTHON:-$ROOT/.venv/bin/python}"
UV="${UV:-$ROOT/.venv/bin/uv}"
PEER="$HERE/.peer-venv"
PEER_MLFLOW="${PEER_MLFLOW:-mlflow==3.17.2}"

want_peer=1
for arg in "$@"; do
  [ "$arg" = "--no-peer" ] && want_peer=0
done

if [ "$want_peer" = 1 ]; then
  # the same XGBoost build on both sides, so the sweep's training work is identical
  XGB="$("$PY" - <<'PYEOF'
import importlib.metadata as md
for name in ("xgboost-cpu", "xgboost"):
    try:
        print(f"{name}=={md.version(name)}")
        break
    except md.PackageNotFoundError:
        pass
PYEOF
)"
  spec="$PEER_MLFLOW $XGB"
  if [ ! -x "$PEER/bin/python" ] || [ "$(cat "$PEER/.installed" 2>/dev/null)" != "$spec" ]; then
    if [ -x "$UV" ] || command -v "$UV" >/dev/null 2>&1; then
      echo "building the peer virtualenv $PEER ($spec)"
      if "$UV" venv --quiet --allow-existing --python "$PY" "$PEER" \
         && "$UV" pip install --quiet --compile-bytecode --python "$PEER/bin/python" $spec; then
        echo "$spec" > "$PEER/.installed"
      else
        echo "could not build the peer virtualenv; running trackrun's benchmarks only" >&2
      fi
    else
      echo "uv not found ($UV); running trackrun's benchmarks only" >&2
    fi
  fi
fi

exec "$PY" "$HERE/run_all.py" "$@"
