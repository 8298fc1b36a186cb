"""Ridge regression on scikit-learn's diabetes data, tracked by trainyard.

Written the Azure ML SDK v1 way: only the import line differs from an ``azureml.core`` script.
The data is a CSV of ten features and ``target`` (``data.csv``: scikit-learn's diabetes table),
given as the job's ``data`` input, so ``trainyard retrain`` can run the job again on new data.
"""

import argparse
import os
import pickle

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from trainyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.5)
parser.add_argument("--test-size", type=float, default=0.2)
parser.add_argument("--data", default="data.csv", help="a CSV of the features and the target column")
args = parser.parse_args()

run = Run.get_context()
frame = pd.read_csv(args.data)
X, y = frame.drop(columns="target"), frame["target"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=0)
print(f"training Ridge(alpha={args.alpha}) on {len(X_train)} rows, testing on {len(X_test)}")
run.log("alpha", args.alpha)

# A small regularisation path: one series per metric, one point per alpha.
for alpha in np.linspace(0.05, 1.0, 20):
    model = Ridge(alpha=alpha).fit(X_train, y_train)
    run.log("mse_path", mean_squared_error(y_test, model.predict(X_test)))

model = Ridge(alpha=args.alpha).fit(X_train, y_train)
predictions = model.predict(X_test)
mse = mean_squared_error(y_test, predictions)
r2 = r2_score(y_test, predictions)
run.log("mse", mse)
run.log("r2", r2)
run.log_table("predictions", {"actual": y_test[:10].tolist(), "predicted": predictions[:10].round(2).tolist()})
print(f"mse={mse:.2f} r2={r2:.3f}")

os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump(model, fh)
print("saved outputs/model.pkl")
