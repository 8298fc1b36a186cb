"""The metric buffer loses nothing when a flush fails part-way, and writes each value once."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from trainyard.store import Metric
from trainyard.store.sql.store import SqlStore
from trainyard.tracking.buffer import MetricBuffer


class FailingOnce(SqlStore):
    """A real SQLite store whose next ``log_batch`` for one run raises (a dropped connection),
    before writing (``fail_for``) or after (``lose_reply_for``)."""

    fail_for: str | None = None
    lose_reply_for: str | None = None

    def log_batch(self, run_id: str, metrics: Sequence[Metric] = (), params=None, tags=None, **ids) -> None:
        if run_id == self.fail_for:
            self.fail_for = None
            raise ConnectionError("connection dropped")
        super().log_batch(run_id, metrics, params, tags, **ids)
        if run_id == self.lose_reply_for:  # written, but the reply never came back
            self.lose_reply_for = None
            raise ConnectionError("connection dropped before the reply")


@pytest.fixture
def store(tmp_path) -> FailingOnce:
    s = FailingOnce(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def test_failed_flush_keeps_every_runs_values_and_a_later_flush_writes_each_once(store: FailingOnce) -> None:
    exp = store.create_experiment("buffer")
    runs = [store.create_run(exp.id).id for _ in range(3)]
    buffer = MetricBuffer(store, interval=3600)
    try:
        for step in range(4):
            for rid in runs:
                buffer.add(rid, Metric("loss", float(step), step, 1000.0 + step))
        store.fail_for = runs[0]  # the first run written fails; the others come after it
        with pytest.raises(ConnectionError):
            buffer.flush()
        buffer.add(runs[0], Metric("loss", 4.0, 4, 1004.0))
        buffer.flush()
        for rid in runs:
            steps = [m.step for m in store.get_metric_history(rid, "loss")]
            assert steps == ([0, 1, 2, 3, 4] if rid == runs[0] else [0, 1, 2, 3])
    finally:
        buffer.close()


def test_a_batch_whose_reply_was_lost_is_sent_again_under_its_id_and_stored_once(store: FailingOnce) -> None:
    exp = store.create_experiment("lost-reply")
    run, other = store.create_run(exp.id).id, store.create_run(exp.id).id
    buffer = MetricBuffer(store, interval=3600)
    try:
        for step in range(3):
            buffer.add(run, Metric("loss", float(step), step, 1000.0 + step))
            buffer.add(other, Metric("loss", float(step), step, 1000.0 + step))
        store.lose_reply_for = run
        with pytest.raises(ConnectionError):
            buffer.flush()
        buffer.add(run, Metric("loss", 3.0, 3, 1003.0))
        buffer.flush()
        for rid, steps in ((run, [0, 1, 2, 3]), (other, [0, 1, 2])):
            assert [m.step for m in store.get_metric_history(rid, "loss")] == steps
    finally:
        buffer.close()
