"""The seed's XGBoost demo on the Iris data set shipped with scikit-learn.

`iris_generator` logs the data set; `xgb_train` trains one model and logs its accuracy and the model.
Run as a script, it does the whole job from Python: generate the data, then train over the seed's
96-combination grid (eta x max_depth x gamma) with selector max.accuracy, two iterations at a time.
The same handlers run from the CLI (see README.md).

Changes from the seed, on purpose: `nthread` is 1 for training and the DMatrix (two iterations share the machine's 2 cores instead of
oversubscribing them), `train_test_split` has a fixed random_state so every runtime gets the same split and
so the same accuracies, `num_class` is 3 (Iris has three classes), and the model is logged with log_model so
it is recorded as a model with its metrics and framework.
"""

import os

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

GRID = {
    "eta": [0.05, 0.10, 0.20, 0.30],
    "max_depth": [3, 4, 5, 6, 8, 10],
    "gamma": [0.0, 0.1, 0.2, 0.3],
}


def iris_generator(context):
    iris = load_iris()
    iris_dataset = pd.DataFrame(data=iris.data, columns=iris.feature_names)
    iris_labels = pd.DataFrame(data=iris.target, columns=['label'])
    iris_dataset = pd.concat([iris_dataset, iris_labels], axis=1)
    context.logger.info('Saving Iris data set to "{}"'.format(context.out_path))
    context.log_dataset('iris_dataset', df=iris_dataset)


def xgb_train(context,
              dataset='',
              model_name='model.bst',
              max_depth=6,
              num_class=3,
              eta=0.2,
              gamma=0.1,
              steps=20):

    df = pd.read_csv(dataset)
    X = df.drop(['label'], axis=1)
    y = df['label']

    X_train, X_test, Y_train, Y_test = train_test_split(X, y, test_size=0.2, random_state=7)
    dtrain = xgb.DMatrix(X_train, label=Y_train, nthread=1)
    dtest = xgb.DMatrix(X_test, label=Y_test, nthread=1)

    # Get parameters from event
    param = {"max_depth": max_depth,
             "eta": eta, "nthread": 1,
             "num_class": num_class,
             "gamma": gamma,
             "objective": "multi:softprob"}

    xgb_model = xgb.train(param, dtrain, steps)

    preds = xgb_model.predict(dtest)
    best_preds = np.asarray([np.argmax(line) for line in preds])

    accuracy = float(accuracy_score(Y_test, best_preds))
    context.log_result('accuracy', accuracy)
    context.log_model('model', body=bytes(xgb_model.save_raw()), model_file=model_name, framework='xgboost',
                      metrics={'accuracy': accuracy}, parameters=param)


def main() -> None:
    from trackrun import get_run_db, new_task, run_local

    gen = run_local(handler=iris_generator, name='iris-gen', project='iris')
    dataset = gen.output('iris_dataset')
    print(f"\ndata set logged: {dataset}")

    task = new_task(name='xgb-train', project='iris', handler=xgb_train, inputs={'dataset': dataset})
    task.with_hyper_params(GRID, 'max.accuracy', parallel_runs=int(os.environ.get('PARALLEL', '2')))
    train = run_local(task)

    db = get_run_db()
    status = train.status
    print(f"\n{status['status_text']}")
    print(f"best iteration: {status['results']['best_iteration']} "
          f"accuracy={status['results']['accuracy']:.3f}")
    print(f"best model: {train.output('model')}")
    print(f"run database: {db.url}")
    print("\nWhere to look (after `source .venv/bin/activate`):")
    print("  trackrun get runs --project iris                  # the data and training runs")
    print("  trackrun get runs --project iris --iter --name xgb-train --sort-by -results.accuracy --last 5")
    print("  trackrun get artifacts --project iris             # data set, models, iteration table")
    print(f"  trackrun logs {train.uid()} --project iris")


if __name__ == "__main__":
    main()
