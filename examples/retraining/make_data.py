"""Write a churn table (``data/churn.csv``) and a holdout (``data/holdout.csv``), no network.

``--seed`` draws another month of customers; ``--drift`` moves how tenure drives churn, which is
what makes last month's model worse and a retrained one better.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=2000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--drift", type=float, default=0.0)
parser.add_argument("--out", default="data/churn.csv")
parser.add_argument("--holdout", default="data/holdout.csv")
args = parser.parse_args()


def month(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, rows),
            "monthly_charges": rng.normal(65, 20, rows).round(2),
            "support_calls": rng.poisson(1.5, rows),
            "contract": rng.choice(["monthly", "yearly", "two_year"], rows, p=[0.55, 0.3, 0.15]),
        }
    )
    logit = (
        -1.0
        + (0.03 - 0.06 * args.drift) * (36 - frame["tenure_months"])
        + 0.02 * (frame["monthly_charges"] - 65)
        + 0.5 * frame["support_calls"]
        - 1.2 * (frame["contract"] != "monthly")
    )
    frame["churned"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.loc[rng.random(rows) < 0.02, "monthly_charges"] = np.nan  # a few gaps for prep to fill
    return frame


for path, frame in ((args.out, month(args.rows, args.seed)), (args.holdout, month(500, args.seed + 1000))):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    print(f"wrote {path}: {len(frame)} rows, churn rate {frame['churned'].mean():.2f}")
