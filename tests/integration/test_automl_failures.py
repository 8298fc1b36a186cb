"""Trials that crash or run out of memory fail alone; the worker pool survives its workers."""

from __future__ import annotations

import functools
import os
import pickle
import time

import pytest

import trainyard as ty
from tests.integration.test_automl import iris
from trainyard.automl.evaluate import evaluate
from trainyard.automl.pool import WorkerPool
from trainyard.status import RunStatus


def flaky(learner: str, params: dict, sample_size: int, *rest: object) -> dict:
    """A trial function whose KNN trials die and whose LinearSVM trials run out of memory."""
    if learner == "KNN":
        os._exit(9)
    if learner == "LinearSVM":
        bytearray(1 << 50)
    return evaluate(learner, params, sample_size, *rest)  # type: ignore[arg-type]


def stuck_refit(learner: str, params: dict) -> None:
    """A refit on every row that never ends (a machine far busier than during the search)."""
    time.sleep(600)


def test_crashing_and_out_of_memory_trials_fail_and_the_search_goes_on(ws, monkeypatch):
    monkeypatch.setattr("trainyard.automl.driver.evaluate", flaky)
    from trainyard.automl import driver
    from trainyard.automl.config import make_settings

    settings = make_settings(
        task="classification",
        label_column_name="target",
        iterations=12,
        enable_ensembling=False,
        experiment_timeout_minutes=1,
        max_concurrent_iterations=2,
        allowed_models=["KNN", "LinearSVM", "LogisticRegression"],
    )
    run = ty.Experiment(ws, "automl").start_logging()
    ctx, classes = driver.prepare(run, settings, iris(), None)
    path = ws.root / "ctx.pkl"
    path.write_bytes(pickle.dumps(ctx))
    pool = WorkerPool(2, driver.load_context, (str(path),))
    try:
        d = driver.Driver(run, settings, ctx, classes)
        d.search(pool)
        d.finish(pool)
    finally:
        pool.close()
    children = {c.tags["automl.learner"]: c for c in ws.store.search_runs(parent_id=run.id)}
    assert children["KNN"].status == RunStatus.FAILED and "exit code 9" in children["KNN"].error
    assert children["LinearSVM"].status == RunStatus.FAILED and "MemoryError" in children["LinearSVM"].error
    assert children["LogisticRegression"].status == RunStatus.COMPLETED
    assert run.tags["automl.best_learner"] == "LogisticRegression"


def test_a_refit_that_would_overrun_the_budget_is_cut_for_the_best_fold_model(ws, monkeypatch):
    from tests.unit.test_automl_wide import wide
    from trainyard.automl import driver
    from trainyard.automl.config import make_settings

    monkeypatch.setattr("trainyard.automl.driver.fit_final", stuck_refit)
    settings = make_settings(
        task="regression",
        label_column_name="price",
        iterations=4,
        n_cross_validations=3,
        experiment_timeout_minutes=0.5,
        allowed_models=["ElasticNet", "LightGBM"],
    )
    run = ty.Experiment(ws, "automl").start_logging()
    frame = wide(300)
    ctx, classes = driver.prepare(run, settings, frame, None)
    path = ws.root / "ctx.pkl"
    path.write_bytes(pickle.dumps(ctx))
    pool = WorkerPool(1, driver.load_context, (str(path),))
    lines: list[str] = []
    try:
        d = driver.Driver(run, settings, ctx, classes)
        monkeypatch.setattr(d, "say", lines.append)
        d.search(pool)
        d.finish(pool)
    finally:
        pool.close()
    said = "\n".join(lines)
    assert "model fitted on fold 1" in said  # the stuck refit was not waited for
    assert d.fallback is not None and run.tags["automl.best_learner"] == d.fallback[0].learner
    assert any(c.startswith("refit (") for c in d.budget.cuts)
    if "ran past its deadline" in said:  # started, then canceled (on a machine so busy that the
        assert not pool.workers  # search used the whole budget, it is not even started)
    _, pipeline = ty.AutoMLRun(ws, run.id).get_output()
    pred = pipeline.predict(frame.drop(columns="price").head(5))
    assert pred.shape == (5,) and (pred > 0).all()


def test_pool_survives_worker_deaths_and_cancels():
    pool = WorkerPool(2)
    try:
        pool.submit("dies", functools.partial(os._exit, 3))
        pool.submit("oom", bytearray, 1 << 50)
        outcomes = {}
        while len(outcomes) < 2:
            outcomes.update({o.key: o for o in pool.wait(10)})
        assert not outcomes["dies"].ok and "exit code 3" in outcomes["dies"].value
        assert not outcomes["oom"].ok and outcomes["oom"].value.startswith("MemoryError")
        pool.submit("sum", sum, [1, 2, 3])
        assert [(o.key, o.ok, o.value) for o in pool.wait(10)] == [("sum", True, 6)]
        pool.submit("slow", __import__("time").sleep, 60)
        pool.cancel("slow")
        assert pool.idle == 2 and not pool.running
    finally:
        pool.close()


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
