"""An experiment of generated runs for the studio's tests and benchmarks: params, metric series,
a log and a file per run, written straight through the Store and ArtifactStore (no jobs run)."""

from __future__ import annotations

import math
import time

from trainyard.artifacts.paths import run_key
from trainyard.status import RunStatus
from trainyard.store import Experiment, Metric, RunInfo
from trainyard.workspace import Workspace

BATCH = 1000  # metrics per log_batch, the store's limit


def sample_experiment(
    ws: Workspace,
    name: str = "studio-sample",
    runs: int = 5,
    points: int = 50,
    running: int = 0,
    metrics: int = 2,
    params: int = 2,
) -> tuple[Experiment, list[RunInfo]]:
    """``runs`` runs in a new experiment ``name``, the last ``running`` of them still running.

    Run ``i`` has params ``lr`` = ``0.1 / (i + 1)`` and ``depth`` = ``i % 7`` (then ``p2``…),
    metrics ``loss`` (falling, ``points`` steps, a spike at the middle step) and ``accuracy``
    (then ``m2``…), the tag ``team`` (``vision`` or ``nlp``), the log ``logs/std_log.txt`` and the
    file ``outputs/model.txt``.
    """
    store, artifacts = ws.store, ws.artifacts
    experiment = store.create_experiment(name)
    made = []
    now = time.time()
    for i in range(runs):
        team = {"team": ("vision", "nlp")[i % 2]}
        run = store.create_run(experiment.id, name=f"run-{i}", status=RunStatus.RUNNING, tags=team)
        values = {"lr": str(0.1 / (i + 1)), "depth": str(i % 7)}
        values.update({f"p{k}": str((i * k) % 11) for k in range(2, params)})
        series: list[Metric] = []
        for step in range(points):
            loss = 1.0 / (1 + step * (i + 1) / points) + (5.0 if step == points // 2 else 0.0)
            series.append(Metric("loss", loss, step, now + step))
            if metrics > 1:
                series.append(Metric("accuracy", 1 - loss / 6, step, now + step))
            series.extend(
                Metric(f"m{k}", math.sin(step / 10 + k + i), step, now + step) for k in range(2, metrics)
            )
        chosen = dict(list(values.items())[:params])
        first = BATCH - len(chosen)  # the params and the first metrics in one batch
        store.log_batch(run.id, series[:first], params=chosen)
        for start in range(first, len(series), BATCH):
            store.log_batch(run.id, series[start : start + BATCH])
        artifacts.put_bytes(
            run_key(run.id, "logs/std_log.txt"), f"run {i}: starting\nrun {i}: step 1\n".encode()
        )
        artifacts.put_bytes(run_key(run.id, "outputs/model.txt"), f"model of run {i}\n".encode())
        if i < runs - running:
            store.set_status(run.id, RunStatus.COMPLETED)
        made.append(store.get_run(run.id))
    return experiment, made


def sample_sweep(
    ws: Workspace, experiment_id: str, trials: int = 3, stopped: tuple[int, ...] = (1,)
) -> RunInfo:
    """A finished sweep's runs as its driver leaves them, minimizing ``loss``: the objective in
    the parent's job record, ``sweep.trial`` on each trial (named ``trial-N``, param ``lr``),
    ``sweep.early_terminated`` on the ``stopped`` ones (canceled after 5 steps; the others
    completed after 20), and ``sweep.best_run_id`` on the parent. Trial ``n`` ends at a loss of
    ``0.9`` for a stopped one, else ``abs(n - 2) / 5 + 0.2`` (trial 2 is the best)."""
    store = ws.store
    job = {"type": "sweep", "sweep": {"objective": {"primary_metric": "loss", "goal": "minimize"}}}
    sweep = store.create_run(experiment_id, name="the-sweep", job=job, status=RunStatus.RUNNING)
    finals = {}
    for n in range(trials):
        tags = {"sweep.trial": str(n)} | ({"sweep.early_terminated": "true"} if n in stopped else {})
        trial = store.create_run(experiment_id, name=f"trial-{n}", parent_id=sweep.id, tags=tags)
        final = 0.9 if n in stopped else abs(n - 2) / 5 + 0.2
        steps = 5 if n in stopped else 20
        series = [Metric("loss", final + 1 / (step + 1), step, 1.0 + step) for step in range(steps)]
        store.log_batch(trial.id, series, params={"lr": f"{0.1 * (n + 1):g}"})
        store.set_status(trial.id, RunStatus.RUNNING)
        store.set_status(trial.id, RunStatus.CANCELED if n in stopped else RunStatus.COMPLETED)
        if n not in stopped:
            finals[trial.id] = final
    store.log_batch(sweep.id, tags={"sweep.best_run_id": min(finals, key=finals.__getitem__)})
    store.set_status(sweep.id, RunStatus.COMPLETED)
    return store.get_run(sweep.id)


def sample_pipeline(ws: Workspace, experiment_id: str) -> RunInfo:
    """A running pipeline's runs as its driver leaves them: the steps and layers in the parent's
    job record, a child per started step tagged ``pipeline.step`` (``prep`` failed once and was
    retried; ``train`` runs; ``report`` has not started)."""
    store = ws.store
    needs = {"prep": [], "train": ["prep"], "validate": ["prep"], "report": ["train", "validate"]}
    job = {
        "type": "pipeline",
        "steps": {step: {"needs": before} for step, before in needs.items()},
        "layers": [["prep"], ["train", "validate"], ["report"]],
    }
    parent = store.create_run(experiment_id, name="nightly-pipeline", job=job, status=RunStatus.RUNNING)
    for step, end in (
        ("prep", RunStatus.FAILED),
        ("prep", RunStatus.COMPLETED),
        ("validate", RunStatus.COMPLETED),
    ):
        child = store.create_run(experiment_id, name=step, parent_id=parent.id, tags={"pipeline.step": step})
        store.set_status(child.id, RunStatus.RUNNING)
        store.set_status(child.id, end)
    store.create_run(
        experiment_id,
        name="train",
        parent_id=parent.id,
        tags={"pipeline.step": "train"},
        status=RunStatus.RUNNING,
    )
    return store.get_run(parent.id)
