#!/usr/bin/env bash
# The main job: set up .venv (first time only), then run the XGBoost/Iris example end to end: log the Iris
# data set, train over the seed's 96-combination grid two at a time, pick the best by accuracy, and print
# where to look at the results. Records go to TRACKRUN_DBPATH (default ~/.trackrun).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python examples/xgb_iris.py "$@"
