"""Reads are consistent snapshots while other connections write (issue 12, defect 0).

A search without ``max_results`` reads runs, then their params, tags and metrics; on PostgreSQL
under READ COMMITTED each statement saw a newer database, so a run created in between came back
in the second query but not the first (``KeyError``). Writers here are threads, each with its
own store and so its own connections, creating runs with params and tags while a reader searches
and reads the registry; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading

from trainyard.store import Metric
from trainyard.store.sql.store import SqlStore

WRITERS = 3
RUNS_PER_WRITER = 40


def _write(uri: str, experiment_id: str, index: int, errors: list[BaseException]) -> None:
    store = SqlStore(uri)
    try:
        for j in range(RUNS_PER_WRITER):
            run = store.create_run(experiment_id, tags={"writer": str(index), "n": str(j)})
            store.log_batch(run.id, metrics=[Metric("loss", 1.0 / (j + 1), 0, 0.0)], params={"j": str(j)})
            if j % 10 == 0:
                version = store.create_model_version(f"model-{index}", source="x", files=["f"], run_id=run.id)
                store.set_model_alias(f"model-{index}", f"a{j}", version.version)
    except BaseException as exc:
        errors.append(exc)
    finally:
        store.close()


def _check_run(run, created_tags: set[str]) -> None:
    """A run is read whole: the tags it was created with, in the same transaction, are all there."""
    assert created_tags <= set(run.tags), run
    if "j" in run.params:  # params, metric and the run's latest metric come from one log_batch
        assert run.metrics["loss"] == 1.0 / (int(run.params["j"]) + 1), run


def test_reads_are_snapshots_while_runs_are_created(store_uri: str) -> None:
    setup = SqlStore(store_uri)
    exp = setup.create_experiment("snapshots")
    errors: list[BaseException] = []
    writers = [threading.Thread(target=_write, args=(store_uri, exp.id, i, errors)) for i in range(WRITERS)]
    for t in writers:
        t.start()
    reads = 0
    try:
        while any(t.is_alive() for t in writers) or reads < 5:
            for run in setup.search_runs([exp.id]):
                _check_run(run, {"writer", "n"})
            for run in setup.search_runs([exp.id], filter_string="params.j != '-1'"):
                _check_run(run, {"writer", "n"})
            for model in setup.list_models():
                for alias, version in model.aliases.items():
                    assert version <= model.latest_version, model
                    assert alias in setup.get_model_version(model.name, version).aliases
            reads += 1
    finally:
        for t in writers:
            t.join(120)
        setup.close()
    assert not errors, errors
    found = SqlStore(store_uri)
    try:
        assert len(found.search_runs([exp.id])) == WRITERS * RUNS_PER_WRITER
    finally:
        found.close()
