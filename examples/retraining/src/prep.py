"""Import and clean: fill the missing charges, one-hot the contract, write the training table."""

import argparse
from pathlib import Path

import pandas as pd

from trainyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

frame = pd.read_csv(args.raw)
missing = int(frame["monthly_charges"].isna().sum())
frame["monthly_charges"] = frame["monthly_charges"].fillna(frame["monthly_charges"].median())
frame = pd.get_dummies(frame, columns=["contract"], dtype=int)
frame.to_csv(Path(args.out) / "train.csv", index=False)
run = Run.get_context()
run.log("rows", len(frame))
run.log("filled_missing_charges", missing)
print(f"prepared {len(frame)} rows ({missing} missing charges filled)")
