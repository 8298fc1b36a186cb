"""Sweep figures, each against its baseline in the same run.

1. Overhead per trial (a script that does nothing but log its value), sequential: a trainyard
   sweep vs a bare Optuna study calling the same function in process vs ``python script.py``
   launched in a loop.
2. Wall time of a 40-trial sweep (each trial sleeps 0.5 s) with 2 concurrent trials vs 1.
3. Best value after 20 trials tuning an SVR (C, gamma, epsilon on wide log ranges) on
   scikit-learn's Friedman #1 regression data (300 rows, 3-fold CV R²), bayesian (TPE) vs random
   sampling, averaged over 4 seeds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402

NOOP = """
import argparse
from trainyard import Run
import time
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
time.sleep(a.sleep)
Run.get_context().log("y", -(a.x - 0.3) ** 2)
"""

SVR = """
import argparse
from sklearn.datasets import make_friedman1
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from trainyard import Run
p = argparse.ArgumentParser()
for name in ("C", "gamma", "epsilon"):
    p.add_argument(f"--{name}", type=float)
a = p.parse_args()
X, y = make_friedman1(n_samples=300, noise=1.0, random_state=0)
model = make_pipeline(StandardScaler(), SVR(C=a.C, gamma=a.gamma, epsilon=a.epsilon))
Run.get_context().log("r2", cross_val_score(model, X, y, cv=3, scoring="r2").mean())
"""


def sweep_seconds(
    ws, src: Path, n: int, concurrent: int, args: list[str] | None = None, **kw
) -> tuple[float, object]:
    import trainyard as ty

    cfg = ty.ScriptRunConfig(source_directory=src, script="train.py", arguments=args or [])
    config = ty.SweepConfig(
        cfg,
        kw.pop("space", {"x": ty.uniform(0, 1)}),
        primary_metric=kw.pop("metric", "y"),
        max_total_trials=n,
        max_concurrent_trials=concurrent,
        **kw,
    )
    start = time.perf_counter()
    run = ty.Experiment(ws, "bench").submit(config)
    run.wait_for_completion()
    return time.perf_counter() - start, run


def overhead(ws, src: Path, n: int = 20) -> list[str]:
    import optuna

    ours, _ = sweep_seconds(ws, src, n, 1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    start = time.perf_counter()
    study.optimize(lambda t: -((t.suggest_float("x", 0, 1) - 0.3) ** 2), n_trials=n)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(n):
        subprocess.run(
            [sys.executable, str(src / "train.py"), "--x", str(i / n)],
            check=True,
            cwd=src,
            capture_output=True,
        )
    loop = time.perf_counter() - start
    return [
        row("sweep overhead per trial (sequential)", ours / n, "optuna in process", bare / n, added=True),
        row(
            "sweep overhead per trial (sequential)", ours / n, "`python script.py` loop", loop / n, added=True
        ),
    ]


def scaling(ws, src: Path, n: int = 40) -> list[str]:
    one, _ = sweep_seconds(ws, src, n, 1, ["--sleep", "0.5"])
    two, _ = sweep_seconds(ws, src, n, 2, ["--sleep", "0.5"])
    return [row(f"{n}-trial sweep wall time, 2 concurrent vs 1", two, "1 concurrent", one)]


def quality(ws, src: Path, n: int = 20, seeds: int = 4) -> list[str]:
    import trainyard as ty

    space = {
        "C": ty.loguniform(0.01, 1e4),
        "gamma": ty.loguniform(1e-5, 10),
        "epsilon": ty.loguniform(1e-3, 10),
    }
    best: dict[str, list[float]] = {"bayesian": [], "random": []}
    for seed in range(seeds):
        for sampling in best:
            _, run = sweep_seconds(
                ws, src, n, 2, space=dict(space), metric="r2", sampling=sampling, seed=seed
            )
            best[sampling].append(run.get_children_sorted_by_primary_metric(top=1)[0]["best_primary_metric"])
    bayes, rand = statistics.mean(best["bayesian"]), statistics.mean(best["random"])
    per_seed = {k: [round(v, 4) for v in values] for k, values in best.items()}
    winner = "bayesian wins" if bayes > rand else "random wins"
    title = f"best R2 after {n} trials (mean of {seeds} seeds)"
    return [f"{title:<46} bayesian {bayes:.4f}   random {rand:.4f}   {winner}   (per seed: {per_seed})"]


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ws = scratch_workspace(tmp)
        noop, svr = tmp / "noop", tmp / "svr"
        noop.mkdir()
        svr.mkdir()
        (noop / "train.py").write_text(NOOP)
        (svr / "train.py").write_text(SVR)
        return [*overhead(ws, noop), *scaling(ws, noop), *quality(ws, svr)]


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
