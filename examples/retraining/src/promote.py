"""Evaluate against production, register, and update the endpoint, only if the candidate is better.

The candidate and the model behind the ``production`` alias score the same holdout; the
candidate is registered and given the alias (and, when an endpoint is named, deployed the way
the endpoint's serving deployment is, with all the traffic) only if its AUC is higher, or if no
model is in production yet. The decision is logged on this step's run.
"""

import argparse
import re
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

import trainyard as ty
from trainyard import Run
from trainyard.errors import NotFoundError

parser = argparse.ArgumentParser()
parser.add_argument("--candidate", required=True)
parser.add_argument("--holdout", required=True)
parser.add_argument("--model-name", default="churn")
parser.add_argument("--endpoint", default="")
args = parser.parse_args()

run = Run.get_context()
ws = ty.Workspace.from_config()
holdout = pd.get_dummies(pd.read_csv(args.holdout).dropna(), columns=["contract"], dtype=int)
X, y = holdout.drop(columns="churned"), holdout["churned"]


def auc(model: object) -> float:
    return float(roc_auc_score(y, model.predict_proba(X[model.feature_names_in_])[:, 1]))


candidate_dir = Path(args.candidate) / "churn"
candidate = auc(ty.models.load(str(candidate_dir)).model)
try:
    production = ty.Model(ws, f"{args.model_name}@production")
    current = auc(ty.models.load(f"models:/{production.name}/{production.version}", workspace=ws).model)
except NotFoundError:
    production, current = None, float("-inf")
run.log("holdout_auc_candidate", candidate)
if production is not None:
    run.log("holdout_auc_production", current)
better = candidate > current
run.set_tags({"promoted": better})
if not better:
    print(f"kept {production.id}: holdout AUC {current:.4f} >= candidate {candidate:.4f}")
    raise SystemExit(0)
model = ty.Model.register(ws, candidate_dir, args.model_name, tags={"pipeline_run": run.id})
model.set_alias("production")
print(f"registered {model.id} as production: holdout AUC {candidate:.4f} (was {current:.4f})")
if args.endpoint:
    from trainyard.sdk.retrain import deploy_like
    from trainyard.serving import endpoints

    deployment = re.sub(r"[^A-Za-z0-9-]", "-", f"v{model.version}-{model.name}")[:32]
    deploy_like(ws, args.endpoint, deployment, model.id)
    endpoints.set_traffic(ws, args.endpoint, {deployment: 100})
    print(f"endpoint {args.endpoint}: all traffic on {deployment}")
