"""Run search over 100,000 runs with params and metrics: filter + order by a metric + a page of 100.

The runs (two params, two metrics, a tag each) are bulk-inserted into a fresh PostgreSQL
database, then searched with ``metrics.rmse < 0.5 and params.optimizer = 'adam'`` ordered by
``metrics.rmse DESC``, first and second page of 100: through the store (SQL), and through
``trainyard server`` over HTTP (``RestStore``). The baseline is the same answer computed the
naive way, by reading every run of the experiment and filtering and sorting in Python (what a
client without server-side search does); MLflow itself was not loaded with 100,000 runs here
(at its ~10 runs/s over REST that takes hours). Target: p50 under 200 ms over HTTP.

Run: ``.venv/bin/python benchmarks/server_search.py`` (PostgreSQL on 127.0.0.1:5432).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _server import database, trainyard_server  # noqa: E402

RUNS = int(os.environ.get("BENCH_SEARCH_RUNS", "100000"))
REPEAT = 20
FILTER = "metrics.rmse < 0.5 and params.optimizer = 'adam'"
ORDER = ["metrics.rmse DESC"]
console = Console()


def populate(uri: str) -> str:
    """``RUNS`` runs in one experiment, inserted in chunks; returns the experiment id."""
    from sqlalchemy import insert

    from trainyard.store.sql.models import LATEST, METRICS, PARAMS, TAGS
    from trainyard.store.sql.models import RUNS as RUN_TABLE
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(uri)
    exp = store.create_experiment("search").id
    rng = random.Random(7)
    now = time.time()
    chunk = 5000
    with Progress(console=console) as progress:
        task = progress.add_task(f"inserting {RUNS:,} runs", total=RUNS)
        for start in range(0, RUNS, chunk):
            runs, params, metrics, tags = [], [], [], []
            for i in range(start, min(start + chunk, RUNS)):
                rid = uuid.uuid4().hex
                runs.append(
                    dict(
                        id=rid,
                        experiment_id=exp,
                        parent_id=None,
                        name=f"run-{i}",
                        status="completed",
                        created_at=now - RUNS + i,
                        start_time=now,
                        end_time=now,
                        heartbeat_at=now,
                        attempt=1,
                        cancel_requested=False,
                    )
                )
                params += [
                    dict(
                        run_id=rid, key="optimizer", value=rng.choice(["adam", "sgd", "rmsprop", "adagrad"])
                    ),
                    dict(run_id=rid, key="lr", value=str(rng.choice([0.1, 0.01, 0.001]))),
                ]
                for key, value in (("rmse", rng.random()), ("accuracy", rng.random())):
                    row = dict(run_id=rid, key=key, value=value, is_nan=False, step=0, timestamp=now)
                    metrics.append(row)
                tags.append(dict(run_id=rid, key="team", value=rng.choice(["vision", "nlp", "tabular"])))
            with store.engine.begin() as conn:
                conn.execute(insert(RUN_TABLE), runs)
                conn.execute(insert(PARAMS), params)
                conn.execute(insert(METRICS), metrics)
                conn.execute(insert(LATEST), [{**m, "experiment_id": exp} for m in metrics])
                conn.execute(insert(TAGS), tags)
            progress.advance(task, len(runs))
    with store.engine.begin() as conn:  # planner statistics, as autovacuum would gather them later
        conn.exec_driver_sql("ANALYZE")
    store.close()
    return exp


def timed(search, repeat: int = REPEAT) -> tuple[float, list[str], list[str]]:  # noqa: ANN001 - a callable
    """p50 seconds of (first page + second page), and the two pages' run ids."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        first = search(None)
        second = search(first.next_page_token)
        times.append((time.perf_counter() - start) / 2)
    return statistics.median(times), [r.id for r in first], [r.id for r in second]


def naive(store, exp: str) -> list[str]:  # noqa: ANN001 - a Store
    """Every run of the experiment, filtered and sorted in Python: the baseline."""
    runs = store.search_runs([exp])
    hits = [r for r in runs if r.metrics.get("rmse", 1.0) < 0.5 and r.params.get("optimizer") == "adam"]
    hits.sort(key=lambda r: (-r.metrics["rmse"], -r.created_at, r.id))
    return [r.id for r in hits[:200]]


def main() -> None:
    from trainyard.store.rest import RestStore
    from trainyard.store.sql.store import SqlStore

    with (
        tempfile.TemporaryDirectory(prefix="trainyard-bench-") as folder,
        database(f"bench_search_{os.getpid()}") as uri,
    ):
        exp = populate(uri)
        sql = SqlStore(uri)
        with console.status("searching through the store"):
            direct, first, second = timed(
                lambda token: sql.search_runs(
                    [exp], filter_string=FILTER, order_by=ORDER, max_results=100, page_token=token
                )
            )
        with console.status("the baseline: every run read, filtered in Python"):
            start = time.perf_counter()
            expected = naive(sql, exp)
            baseline = time.perf_counter() - start
        assert first + second == expected, "search and the baseline disagree"
        with trainyard_server(Path(folder), uri) as (url, token), console.status("searching over HTTP"):
            rest = RestStore(url, token=token)
            over_http, first_http, _ = timed(
                lambda t: rest.search_runs(
                    [exp], filter_string=FILTER, order_by=ORDER, max_results=100, page_token=t
                )
            )
            assert first_http == first
            rest.close()
        sql.close()
    console.print(
        f"search over {RUNS:,} runs: filter + order by a metric + page of 100 (p50 of {REPEAT}, per page)"
    )
    console.print(f"  through the store (SQL)   {direct * 1000:8.1f} ms")
    console.print(
        f"  over HTTP (trainyard server) {over_http * 1000:8.1f} ms   read-all-and-filter baseline "
        f"{baseline * 1000:8.0f} ms   ratio {baseline / over_http:6.1f}x   target < 200 ms"
    )


if __name__ == "__main__":
    main()
