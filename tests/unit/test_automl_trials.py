"""Trials recorded as child runs through the store, and the leaderboard read back from them."""

from __future__ import annotations

from pathlib import Path

import pytest

import trainyard as ty
from trainyard.automl import trials
from trainyard.automl.trials import Trial
from trainyard.status import RunStatus


@pytest.fixture
def parent(tmp_path: Path):
    ws = ty.Workspace.create(tmp_path)
    run = ty.Experiment(ws, "automl").start_logging()
    run.tag("automl.primary_metric", "AUC_weighted")
    yield ty.AutoMLRun(ws, run.id)
    ws.close()


def record(parent, number: int, learner: str, auc: float | None, error: str | None = None) -> Trial:
    trial = Trial(number, "", learner, {"n_estimators": 4, "learning_rate": 0.1}, 500)
    trials.start(parent.workspace.store, parent.info, trial, trials.step_params(learner, trial.params, False))
    trial.status = "failed" if error else "completed"
    trial.metrics = {} if auc is None else {"AUC_weighted": auc, "accuracy": 0.9}
    trial.seconds, trial.error = 1.5, error
    trials.finish(parent.workspace.store, trial)
    return trial


def test_trials_are_child_runs_with_pipeline_param_names_metrics_and_status(parent):
    record(parent, 0, "LightGBM", 0.91)
    record(parent, 1, "KNN", None, error="MemoryError: out of memory")
    children = {c.tags["automl.learner"]: c for c in parent.workspace.store.search_runs(parent_id=parent.id)}
    lgbm = children["LightGBM"]
    assert lgbm.status == RunStatus.COMPLETED and lgbm.parent_id == parent.id
    assert lgbm.params == {
        "model": "LightGBM",
        "scale": "none",
        "model__n_estimators": "4",
        "model__learning_rate": "0.1",
    }
    assert lgbm.metrics["AUC_weighted"] == 0.91 and lgbm.metrics["duration_seconds"] == 1.5
    assert (
        children["KNN"].status == RunStatus.FAILED and children["KNN"].error == "MemoryError: out of memory"
    )


def test_the_leaderboard_is_built_from_the_children_while_no_table_is_logged(parent):
    record(parent, 0, "LightGBM", 0.91)
    record(parent, 1, "KNN", None, error="died")
    record(parent, 2, "RandomForest", 0.95)
    board = parent.get_leaderboard()
    assert board["learner"] == ["RandomForest", "LightGBM", "KNN"]
    assert board["rank"] == [1, 2, None] and board["status"][2] == "failed" and board["error"][2] == "died"
    text = trials.render(board, "AUC_weighted")
    assert "higher is better" in text and "RandomForest" in text and "KNN" not in text


def test_stopping_cancels_running_trials_as_canceled_child_runs(parent):
    import time

    from trainyard.automl.driver import Driver, Slowdown

    class Pool:
        def __init__(self) -> None:
            self.running = {0: time.monotonic() - 2.0}
            self.canceled: list[int] = []

        def cancel(self, key: int) -> None:
            self.canceled.append(key)
            del self.running[key]

    driver = Driver.__new__(Driver)
    driver.store, driver.stopping, driver.say = parent.workspace.store, "stop", print
    driver.pending, driver.writer = {0: None}, trials.Writer()
    driver.deadline, driver.slowdown = time.time() + 60, Slowdown()
    trial = Trial(0, "", "LightGBM", {}, 100)
    trials.start(driver.store, parent.info, trial, {})
    driver.trials = [trial]
    pool = Pool()
    driver.search(pool)
    assert pool.canceled == [0] and driver.pending == {}
    driver.writer.flush()  # the child-run writes happen on the writer's thread, in order
    info = driver.store.get_run(trial.run_id)
    assert info.status == RunStatus.CANCELED and info.error == info.cancel_reason == "canceled: stop"
    assert 2.0 <= info.metrics["duration_seconds"] < 60


def test_the_writer_keeps_the_order_of_writes_and_their_errors():
    import threading

    seen: list[object] = []
    writer = trials.Writer()
    writer.submit(lambda: seen.append(threading.current_thread().name))
    writer.submit(lambda: 1 / 0)
    writer.submit(seen.append, 2)
    writer.flush()
    assert seen == ["automl-trial-writes", 2] and writer.errors == ["ZeroDivisionError: division by zero"]
    writer.close()


def test_what_the_search_keeps_back_follows_the_latest_load_sample():
    from trainyard.automl.driver import Slowdown

    slowdown = Slowdown()
    assert slowdown.recent() == 1.0  # no samples yet
    slowdown.during = [0.02]
    assert slowdown.recent() == 1.0  # one sample: nothing to compare with
    slowdown.during = [0.02, 0.02, 0.06]
    assert slowdown.recent() == 3.0  # three times slower than the search's median
    slowdown.during = [0.02, 0.02, 0.5]
    assert slowdown.recent() == 4.0  # capped as factor() is
    slowdown.during = [0.04, 0.04, 0.01]
    assert slowdown.recent() == 1.0  # a quieter machine keeps back no less


def test_the_refit_the_search_kept_time_back_for_is_tried_when_a_fresh_probe_reads_slower():
    import time

    from trainyard.automl.driver import Driver, Slowdown

    driver = Driver.__new__(Driver)
    driver.say, driver.slowdown = print, Slowdown()
    driver.slowdown.during = [0.02, 0.02]  # the search's load: its estimates as they were
    best, other = Trial(0, "", "LightGBM", {}, 100), Trial(1, "", "ElasticNet", {}, 100)
    driver.fallback = (best, "fold model")
    driver._refit_need = lambda trial: 2.0  # type: ignore[method-assign]
    tried: list[float] = []
    driver.fit_winner = lambda pool, winner, built, until: tried.append(until) or "refitted"  # type: ignore[method-assign]
    until = time.time() + 3.0
    # 2 s of refit at a probe reading 2x slower does not fit 3 s; at the search's load it does
    winner, model = driver.refit(None, [best, other], {}, until, slowdown=2.0)  # type: ignore[arg-type]
    assert (winner, model, tried) == (best, "refitted", [until])  # canceled at ``until`` if late
