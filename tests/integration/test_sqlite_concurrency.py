"""Several processes write one SQLite store at once while others read it: nothing fails, nothing
is lost (the store waits for SQLite's lock instead of raising ``database is locked``)."""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections import Counter

from sqlalchemy import func, select

from trainyard.store import Metric
from trainyard.store.sql.models import METRICS
from trainyard.store.sql.store import SqlStore

WRITERS = 4
READERS = 2
BATCHES = 250
PER_BATCH = 4
KEYS = [f"m{k}" for k in range(PER_BATCH)]


def _writer(uri: str, shared: str, own: str, index: int, barrier, results) -> None:
    try:
        store = SqlStore(uri)
        barrier.wait(60)
        for j in range(BATCHES):
            run_id = shared if j % 2 == 0 else own  # every other batch to the run all share
            value = float(index * 10_000 + j)
            store.log_batch(run_id, metrics=[Metric(k, value, j, time.time()) for k in KEYS])
        store.close()
        results.put(("writer", index, "ok"))
    except BaseException:
        results.put(("writer", index, traceback.format_exc()))
        raise


def _reader(uri: str, shared: str, index: int, barrier, stop, results) -> None:
    try:
        store = SqlStore(uri)
        barrier.wait(60)
        reads = 0
        while not stop.is_set():
            store.search_runs()
            store.get_metric_history(shared)
            store.get_run(shared)
            reads += 1
        store.close()
        results.put(("reader", index, reads))
    except BaseException:
        results.put(("reader", index, traceback.format_exc()))
        raise


def test_processes_log_to_one_sqlite_file_at_once(sqlite_uri):
    setup = SqlStore(sqlite_uri)
    exp = setup.create_experiment("concurrency")
    shared = setup.create_run(exp.id).id
    own = [setup.create_run(exp.id).id for _ in range(WRITERS)]

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS + READERS)
    stop = ctx.Event()
    results = ctx.Queue()
    writers = [
        ctx.Process(target=_writer, args=(sqlite_uri, shared, own[i], i, barrier, results))
        for i in range(WRITERS)
    ]
    readers = [
        ctx.Process(target=_reader, args=(sqlite_uri, shared, i, barrier, stop, results))
        for i in range(READERS)
    ]
    reports: list[tuple[str, int, object]] = []
    started = time.monotonic()
    try:
        for p in writers + readers:
            p.start()
        while len(reports) < WRITERS and time.monotonic() - started < 60:
            try:
                reports.append(results.get(timeout=1))
            except queue.Empty:
                if not any(p.is_alive() for p in writers):
                    break
        stop.set()
        while len(reports) < WRITERS + READERS and time.monotonic() - started < 75:
            try:
                reports.append(results.get(timeout=1))
            except queue.Empty:
                if not any(p.is_alive() for p in writers + readers):
                    break
        for p in writers + readers:
            p.join(10)
    finally:
        stop.set()
        for p in writers + readers:
            if p.is_alive():
                p.kill()

    failures = [r for r in reports if isinstance(r[2], str) and r[2] != "ok"]
    assert failures == [], "\n".join(str(r[2]) for r in failures)
    assert sorted((kind, i) for kind, i, _ in reports) == sorted(
        [("reader", i) for i in range(READERS)] + [("writer", i) for i in range(WRITERS)]
    ), f"some processes did not report: {reports}"
    assert [p.exitcode for p in writers + readers] == [0] * (WRITERS + READERS)
    assert all(reads > 0 for kind, _, reads in reports if kind == "reader")

    # Every row arrived, each exactly once.
    with setup.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(METRICS)).scalar() == WRITERS * BATCHES * PER_BATCH
        )
    shared_history = setup.get_metric_history(shared)
    own_histories = [setup.get_metric_history(r) for r in own]
    half = BATCHES // 2
    assert len(shared_history) == WRITERS * half * PER_BATCH
    assert [len(h) for h in own_histories] == [half * PER_BATCH] * WRITERS
    assert len(shared_history) + sum(map(len, own_histories)) == WRITERS * BATCHES * PER_BATCH
    expected_shared = Counter(
        (k, float(i * 10_000 + j), j) for i in range(WRITERS) for j in range(0, BATCHES, 2) for k in KEYS
    )
    assert Counter((m.key, m.value, m.step) for m in shared_history) == expected_shared
    for i, history in enumerate(own_histories):
        assert {(m.key, m.value, m.step) for m in history} == {
            (k, float(i * 10_000 + j), j) for j in range(1, BATCHES, 2) for k in KEYS
        }

    # The latest value of each key is the newest of the highest step, whoever logged it.
    latest = setup.get_run(shared).metrics
    for key in KEYS:
        newest = max((m for m in shared_history if m.key == key), key=lambda m: (m.step, m.timestamp))
        assert latest[key] == newest.value
    assert setup.get_run(own[0]).metrics == {k: float(BATCHES - 1) for k in KEYS}
    setup.close()
