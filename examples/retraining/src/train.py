"""Train: a scaled logistic regression on the prepared table, saved as a trainyard model folder."""

import argparse
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import trainyard as ty
from trainyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--c", type=float, default=1.0)
args = parser.parse_args()

frame = pd.read_csv(Path(args.data) / "train.csv")
X, y = frame.drop(columns="churned"), frame["churned"]
model = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=1000))
run = Run.get_context()
run.log("cv_auc", float(cross_val_score(model, X, y, cv=3, scoring="roc_auc").mean()))
model.fit(X, y)
ty.models.save(model, Path(args.out) / "churn", input_example=X.head())
print(f"trained on {len(frame)} rows")
