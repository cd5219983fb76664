"""The seed's XGBoost training on Iris, in two parts: the work (`train`, no tracking at all) and the
handler (`xgb_train`, the seed's signature, logging accuracy and the model). Imports neither trackrun nor
mlflow, so the bare loop, the trackrun sweep and the MLflow peer all run the same work.

Differences from the seed, kept equal for every side: ``nthread=1`` for training and for the DMatrix (a
2-core machine running two iterations at once; and an OpenMP thread team created in the parent before
the sweep forks its workers deadlocks them inside libgomp, see RESULTS.md), and a fixed split
(``random_state=42``) so every side trains on the same rows.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

# Seconds spent inside `train` in this process (the benchmarks read it to split a sweep's wall time into
# training and everything else).
TRAIN_SECONDS = [0.0]


def train(dataset: str, max_depth: int = 6, num_class: int = 10, eta: float = 0.2, gamma: float = 0.1,
          steps: int = 20) -> tuple[float, bytes]:
    """Train on the CSV at ``dataset``; return (test accuracy, the model's raw bytes)."""
    start = time.perf_counter()
    df = pd.read_csv(dataset)
    X = df.drop(["label"], axis=1)
    y = df["label"]
    X_train, X_test, Y_train, Y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    dtrain = xgb.DMatrix(X_train, label=Y_train, nthread=1)
    dtest = xgb.DMatrix(X_test, label=Y_test, nthread=1)
    param = {"max_depth": max_depth, "eta": eta, "nthread": 1, "num_class": num_class, "gamma": gamma,
             "objective": "multi:softprob"}
    model = xgb.train(param, dtrain, steps)
    preds = model.predict(dtest)
    best_preds = np.asarray([np.argmax(line) for line in preds])
    result = float(accuracy_score(Y_test, best_preds)), bytes(model.save_raw())
    TRAIN_SECONDS[0] += time.perf_counter() - start
    return result


def xgb_train(context, dataset="", model_name="model.bst", max_depth=6, num_class=10, eta=0.2, gamma=0.1,
              steps=20):
    """The seed's handler: ``dataset`` is an input (a CSV path; trackrun hands a str-defaulted input over
    as a local path)."""
    accuracy, model = train(str(dataset), max_depth=max_depth, num_class=num_class, eta=eta, gamma=gamma,
                            steps=steps)
    context.log_result("accuracy", accuracy)
    context.log_artifact("model", body=model, local_path=model_name, labels={"framework": "xgboost"})
