"""Train Model + Score Model + Evaluate Model vs the same LightGBM / scikit-learn calls by hand.

A 100,000-row table of 50 columns (49 numeric features and a two-class label) is split 80/20
once, outside the timings, into two Parquet files. Each variant reads them and then:

- **by hand**: ``LGBMClassifier`` with the Two-Class Boosted Decision Tree's default parameters,
  ``predict_proba`` on the holdout, accuracy, precision, recall, F1, AUC, log loss, the confusion
  matrix, ROC and precision-recall curves, and the three figures Evaluate Model draws;
- **components in memory**: ``train-model``, ``score-model`` and ``evaluate-model`` called as
  Python functions (validation, label checks, the scored table, the report);
- **by hand, with files**: the hand script plus what a tracked run keeps: the model saved,
  the scored table written as Parquet, the figures as PNG;
- **components as tracked runs**: ``run_component`` for each step, inputs by content hash,
  outputs persisted in the artifact store, runs recorded in SQLite.

Each variant runs ``--repeat`` times, alternating; medians are reported. LightGBM and BLAS use
one thread (``OMP_NUM_THREADS``, unless set): on a shared machine, OpenMP threads that wait on
each other at every tree make timings swing by several times. For the same reason, beside wall
time each run records its CPU time and, apart, the CPU time inside LightGBM's ``fit`` and
``predict_proba`` (the same calls in every variant). The component layer's overhead is the CPU
time it adds outside LightGBM, as a share of the baseline's total (target: under 10 %); the
plain wall and CPU ratios are printed too.

    python benchmarks/components.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import os

# One OpenMP thread unless told otherwise: set before numpy and LightGBM load their thread pools.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import scratch_workspace  # noqa: E402

LEARNER = "two-class-boosted-decision-tree"
COLUMNS = 50


def make_table(rows: int, folder: Path) -> tuple[Path, Path]:
    """Train and holdout Parquet files: 49 numeric features, a label that depends on ten of them."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, COLUMNS - 1)).astype(np.float64)
    logit = x[:, :10] @ rng.normal(size=10) + 0.5 * x[:, 10] * x[:, 11]
    y = (logit + rng.logistic(size=rows) > 0).astype(np.int64)
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(COLUMNS - 1)]).assign(label=y)
    cut = int(rows * 0.8)
    train, holdout = folder / "train.parquet", folder / "holdout.parquet"
    df.iloc[:cut].to_parquet(train, index=False)
    df.iloc[cut:].to_parquet(holdout, index=False)
    return train, holdout


def learner_params() -> dict:
    from trainyard.components import get_component

    return {p.name: p.default for p in get_component(LEARNER).params}


def by_hand(train: Path, holdout: Path, out: Path | None) -> dict[str, float]:
    """What a person writes without trainyard (``out``: also keep the model, scores and figures)."""
    import lightgbm
    import matplotlib.pyplot as plt
    from sklearn import metrics as m

    p = learner_params()
    fit_df, test_df = pd.read_parquet(train), pd.read_parquet(holdout)
    features = [c for c in fit_df.columns if c != "label"]
    model = lightgbm.LGBMClassifier(
        num_leaves=p["maximum_number_of_leaves_per_tree"],
        min_child_samples=p["minimum_number_of_samples_per_leaf_node"],
        learning_rate=p["learning_rate"],
        n_estimators=p["number_of_trees_constructed"],
        random_state=p["random_number_seed"],
        verbose=-1,
    ).fit(fit_df[features], fit_df["label"])
    proba = model.predict_proba(test_df[features])[:, 1]
    y, pred = test_df["label"].to_numpy(), (proba >= 0.5).astype(int)
    result = {
        "accuracy": m.accuracy_score(y, pred),
        "precision": m.precision_score(y, pred),
        "recall": m.recall_score(y, pred),
        "f1_score": m.f1_score(y, pred),
        "auc": m.roc_auc_score(y, proba),
        "log_loss": m.log_loss(y, proba),
    }
    confusion = m.confusion_matrix(y, pred)
    fpr, tpr, _ = m.roc_curve(y, proba)
    precision, recall, _ = m.precision_recall_curve(y, proba)
    figs = {}
    for name, (xs, ys) in {"roc": (fpr, tpr), "pr": (recall, precision)}.items():
        figs[name], ax = plt.subplots()
        ax.plot(xs, ys)
    figs["confusion"], ax = plt.subplots()
    ax.imshow(confusion)
    if out is not None:
        model.booster_.save_model(out / "model.txt")
        test_df.assign(**{"Scored Labels": pred, "Scored Probabilities": proba}).to_parquet(
            out / "scored.parquet"
        )
        for name, fig in figs.items():
            fig.savefig(out / f"{name}.png", dpi=100, bbox_inches="tight")
    for fig in figs.values():
        plt.close(fig)
    return result


def in_memory(train: Path, holdout: Path) -> dict[str, float]:
    """The three components called as Python functions."""
    import matplotlib.pyplot as plt

    from trainyard.components import get_component as c

    untrained = c(LEARNER)()["untrained_model"]
    model = c("train-model")(untrained_model=untrained, dataset=pd.read_parquet(train), label_column="label")
    scored = c("score-model")(trained_model=model["trained_model"], dataset=pd.read_parquet(holdout))
    report = c("evaluate-model")(scored_dataset=scored["scored_dataset"])["evaluation_results"]
    for fig in report.figures.values():
        plt.close(fig)
    return report.metrics


def tracked(ws, train: Path, holdout: Path) -> dict[str, float]:  # noqa: ANN001
    """The three components as tracked runs, chained by run references."""
    import matplotlib.pyplot as plt

    from trainyard.components import get_component
    from trainyard.components.runner import run_component

    untrained = get_component(LEARNER)()["untrained_model"]
    trained = run_component(
        ws, "train-model", {"untrained_model": untrained, "dataset": str(train)}, {"label_column": "label"}
    )
    scored = run_component(
        ws, "score-model", {"trained_model": trained.locations["trained_model"], "dataset": str(holdout)}
    )
    report = run_component(ws, "evaluate-model", {"scored_dataset": scored.locations["scored_dataset"]})
    for fig in report.outputs["evaluation_results"].figures.values():
        plt.close(fig)
    return report.metrics


@dataclass
class Sample:
    wall: float  # seconds on the clock
    cpu: float  # CPU seconds of this process (less sensitive to other load on a shared machine)
    learner: float  # CPU seconds inside LightGBM's fit and predict_proba
    auc: float

    @property
    def layer(self) -> float:
        """CPU seconds outside LightGBM: reading, checks, metrics, figures, files, the store."""
        return self.cpu - self.learner


class LearnerClock:
    """Counts the CPU time spent in ``LGBMClassifier.fit`` and ``predict_proba``, in every variant."""

    def __init__(self) -> None:
        import lightgbm

        self.spent = 0.0
        for method in ("fit", "predict_proba"):
            original = getattr(lightgbm.LGBMClassifier, method)
            setattr(lightgbm.LGBMClassifier, method, self._counted(original))

    def _counted(self, original: Callable) -> Callable:
        def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent += time.process_time() - start

        return counted

    def sample(self, fn: Callable[[], dict[str, float]]) -> Sample:
        self.spent = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        return Sample(time.perf_counter() - wall, time.process_time() - cpu, self.spent, result["auc"])


def main(rows: int = 100_000, repeat: int = 3) -> Iterator[str]:
    import matplotlib

    matplotlib.use("Agg")
    from rich.progress import Progress

    clock = LearnerClock()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train, holdout = make_table(rows, folder)
        ws = scratch_workspace(folder)
        files = folder / "hand"
        files.mkdir()
        variants: dict[str, Callable[[], dict[str, float]]] = {
            "by hand": lambda: by_hand(train, holdout, None),
            "components in memory": lambda: in_memory(train, holdout),
            "by hand, with files": lambda: by_hand(train, holdout, files),
            "components as tracked runs": lambda: tracked(ws, train, holdout),
        }
        for fn in variants.values():  # warm imports and caches once, untimed
            fn()
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        with Progress(transient=True) as progress:
            task = progress.add_task("train + score + evaluate", total=repeat * len(variants))
            for _ in range(repeat):
                for name, fn in variants.items():
                    samples[name].append(clock.sample(fn))
                    progress.advance(task)
        ws.close()
    yield from report(rows, samples)


def report(rows: int, samples: dict[str, list[Sample]]) -> Iterator[str]:
    def med(name: str, field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples[name])

    yield f"train {int(rows * 0.8):,} rows, score and evaluate {rows - int(rows * 0.8):,}; {COLUMNS} columns"
    runs = len(samples["by hand"])
    yield f"{'variant':<28} {'wall s':>8} {'CPU s':>8} {'LightGBM':>9} {'the rest':>9}   (median of {runs})"
    for name in samples:
        yield (
            f"{name:<28} {med(name, 'wall'):8.2f} {med(name, 'cpu'):8.2f} "
            f"{med(name, 'learner'):9.2f} {med(name, 'layer'):9.2f}"
        )
    aucs = {round(s.auc, 6) for runs in samples.values() for s in runs}
    yield f"AUC of every run (must be one value): {sorted(aucs)}"
    for ours, base in (
        ("components in memory", "by hand"),
        ("components as tracked runs", "by hand, with files"),
        ("components as tracked runs", "by hand"),
    ):
        added = med(ours, "layer") - med(base, "layer")
        share = 100 * added / med(base, "cpu")
        yield (
            f"{ours} vs {base}: adds {added:+.2f} CPU s outside LightGBM = {share:+.1f} % "
            f"of {base}; CPU {100 * (med(ours, 'cpu') / med(base, 'cpu') - 1):+.1f} %, "
            f"wall {100 * (med(ours, 'wall') / med(base, 'wall') - 1):+.1f} %"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for line in main(args.rows, args.repeat):
        print(line, flush=True)
