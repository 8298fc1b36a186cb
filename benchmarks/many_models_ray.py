"""Many models on a local Ray cluster (issue 18's figure): N partitions x a small scikit-learn
model (Ridge on 3 features), the same fit done three ways, side by side on one cluster:

1. trainyard many-models with ``compute: cluster`` (one Ray job, its driver; one Ray task per
   partition, each a child run with its log, metric and registered model version), from
   ``submit_many_models`` to the parent run's end;
2. the same training written by hand as ``ray.remote`` tasks in one Ray job (each task fits its
   partition, pickles the model to a file and returns the R²), from ``submit_job`` to its end;
3. a sequential loop in this process (no Ray).

Target: trainyard within 20 % of the hand-written tasks. ``--partitions`` (default 1000),
``--rows`` per partition, ``--cpus`` of the head.

``--automl``: AutoML per partition instead (``task: regression``, ``--minutes`` of budget and
``--iterations`` trials each, ``--cpus`` partitions at a time), trainyard only, from submit to
the parent's end, with each partition's own wall time and where it ran. Run it with another
trainyard first on ``PYTHONPATH`` to time that one on the same head.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import scratch_workspace  # noqa: E402

FEATURES = ["x1", "x2", "x3"]
SCRIPT = """
import argparse, pathlib, pickle
import pandas as pd
from sklearn.linear_model import Ridge
from trainyard import Run
p = argparse.ArgumentParser()
p.add_argument("--data")
p.add_argument("--model")
a = p.parse_args()
rows = pd.read_csv(a.data)
X, y = rows[["x1", "x2", "x3"]], rows["y"]
model = Ridge().fit(X, y)
Run.get_context().log("r2", model.score(X, y))
pathlib.Path(a.model, "model.pkl").write_bytes(pickle.dumps(model))
"""
# The hand-written Ray version: the same fit and pickle per partition, one task each.
BY_HAND = """
import pathlib, pickle, sys, time
import pandas as pd
import ray
from sklearn.linear_model import Ridge

@ray.remote(num_cpus=1)
def fit(rows, out):
    X, y = rows[["x1", "x2", "x3"]], rows["y"]
    model = Ridge().fit(X, y)
    pathlib.Path(out).write_bytes(pickle.dumps(model))
    return model.score(X, y)

ray.init()
table, out = pd.read_csv(sys.argv[1]), pathlib.Path(sys.argv[2])
refs = [fit.remote(rows, str(out / f"{store}.pkl")) for store, rows in table.groupby("store")]
scores = ray.get(refs)
print("fitted", len(scores), "partitions", flush=True)
"""


def make_table(partitions: int, rows: int):  # noqa: ANN201 - a DataFrame
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(partitions * rows, len(FEATURES)))
    store = np.repeat(np.arange(partitions), rows)
    slopes = rng.normal(size=(partitions, len(FEATURES)))[store]
    y = (x * slopes).sum(axis=1) + rng.normal(0, 0.1, len(store))
    return pd.DataFrame({"store": store, **{f: x[:, i] for i, f in enumerate(FEATURES)}, "y": y})


def sequential(table, out: Path) -> float:  # noqa: ANN001 - a DataFrame
    import pickle

    from sklearn.linear_model import Ridge

    start = time.perf_counter()
    for store, rows in table.groupby("store"):
        X, y = rows[FEATURES], rows["y"]
        model = Ridge().fit(X, y)
        model.score(X, y)
        (out / f"{store}.pkl").write_bytes(pickle.dumps(model))
    return time.perf_counter() - start


def by_hand(address: str, folder: Path, table_csv: Path, out: Path) -> float:
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(address)
    (folder / "by_hand.py").write_text(BY_HAND)
    start = time.perf_counter()
    job = client.submit_job(
        entrypoint=f"python by_hand.py {table_csv} {out}", runtime_env={"working_dir": str(folder)}
    )
    while not (status := client.get_job_status(job)).is_terminal():
        time.sleep(0.05)
    took = time.perf_counter() - start
    assert status == JobStatus.SUCCEEDED, client.get_job_logs(job)
    return took


def trainyard_run(ws, code: Path, table, partitions: int, cpus: int) -> tuple[float, float]:  # noqa: ANN001
    """Seconds from submit to the parent's end, and of that the submit (split and store)."""
    import trainyard as ty

    config = ty.ManyModelsConfig(
        training_data=table,
        partition_column_names=["store"],
        command="python train.py --data ${{inputs.data}} --model ${{outputs.model}}",
        code=str(code),
        primary_metric="r2",
        compute="cluster",
        max_concurrent_partitions=4 * cpus,  # the cluster runs `cpus` at once; the rest wait ready
        experiment_name="bench",
    )
    start = time.perf_counter()
    run = ty.submit_many_models(ws, config)
    submitted = time.perf_counter() - start
    run.wait_for_completion(show_output=False, timeout_seconds=3600)
    took = time.perf_counter() - start
    versions = ws.store.list_model_versions("bench-many")
    assert len(versions) == partitions, f"{len(versions)} of {partitions} models registered"
    return took, submitted


def automl_run(ws, table, partitions: int, cpus: int, minutes: float, iterations: int) -> list[str]:  # noqa: ANN001
    """AutoML per partition on the cluster: the wall time, and each partition's."""
    import trainyard as ty

    config = ty.ManyModelsConfig(
        training_data=table,
        partition_column_names=["store"],
        label_column_name="y",
        task="regression",
        experiment_timeout_minutes=minutes,
        iterations=iterations,
        allowed_models=["ElasticNet", "KNN"],
        enable_ensembling=False,
        model_explainability=False,
        compute="cluster",
        max_concurrent_partitions=cpus,
        experiment_name="bench",
    )
    start = time.perf_counter()
    run = ty.submit_many_models(ws, config)
    run.wait_for_completion(show_output=False, timeout_seconds=3600, raise_on_error=False)
    took = time.perf_counter() - start
    children = ws.store.search_runs(parent_id=run.id)
    walls = sorted((c.end_time or c.created_at) - c.created_at for c in children)
    statuses = sorted({f"{c.status.value} on {c.compute} (ray.task: {c.tags.get('ray.task', 'no')})"
                       for c in children})  # fmt: skip
    return [
        f"{partitions} AutoML partitions x {len(table) // partitions} rows, {iterations} trials each, "
        f"budget {minutes:g} min, {cpus} at a time, a local Ray head with {cpus} CPUs",
        f"trainyard many-models: {took:.2f} s from submit to the parent's end ({run.refresh().status.value})",
        f"each partition's run, created to ended: median {walls[len(walls) // 2]:.2f} s, "
        f"min {walls[0]:.2f} s, max {walls[-1]:.2f} s",
        f"partitions: {'; '.join(statuses)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--automl", action="store_true", help="AutoML per partition (trainyard only)")
    parser.add_argument("--minutes", type=float, default=0.5, help="--automl: each partition's budget")
    parser.add_argument("--iterations", type=int, default=4, help="--automl: trials per partition")
    args = parser.parse_args()

    from trainyard.compute.ray_target import start_local_head, stop_local_head
    from trainyard.compute.targets import TargetSpec, save_target

    table = make_table(args.partitions, args.rows)
    head = start_local_head(num_cpus=args.cpus)
    assert head.local is not None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for name in ("code", "hand", "out_hand", "out_seq"):
                (root / name).mkdir()
            (root / "code" / "train.py").write_text(SCRIPT)
            table.to_csv(root / "table.csv", index=False)
            ws = scratch_workspace(root)
            save_target(ws, "cluster", TargetSpec(address=head.address))
            if args.automl:
                report = automl_run(ws, table, args.partitions, args.cpus, args.minutes, args.iterations)
                ws.close()
                print("\n".join(report))
                return
            seq = sequential(table, root / "out_seq")
            hand = by_hand(head.address, root / "hand", root / "table.csv", root / "out_hand")
            ours, submit = trainyard_run(ws, root / "code", table, args.partitions, args.cpus)
            ws.close()
    finally:
        stop_local_head(head.local)
    n = args.partitions
    lines = [
        f"{n} partitions x {args.rows} rows, Ridge on {len(FEATURES)} features, "
        f"a local Ray head with {args.cpus} CPUs",
        f"sequential loop (this process)      {seq:8.2f} s  {seq / n * 1e3:7.2f} ms/partition",
        f"ray.remote by hand (one Ray job)    {hand:8.2f} s  {hand / n * 1e3:7.2f} ms/partition",
        f"trainyard many-models (Ray tasks)   {ours:8.2f} s  {ours / n * 1e3:7.2f} ms/partition"
        f"  (of which submit: {submit:.2f} s)",
        f"trainyard / by hand: {ours / hand:.2f}x "
        f"(overhead {100 * (ours / hand - 1):.0f} %; target: under 20 %)",
        f"trainyard / sequential: {ours / seq:.2f}x",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
