"""The studio in headless Chromium: the runs page of a large experiment, sorting it, and a long chart.

An embedded workspace gets ``BENCH_STUDIO_RUNS`` runs (5,000 by default, so it stays quick;
``BENCH_STUDIO_RUNS=100000`` for issue 16's figure, about 7 minutes to write on the loaded
development machine) with 20 params and 20 metrics each, one more run with a
``BENCH_STUDIO_POINTS``-point metric (1,000,000 by default) with a spike every 99,991 steps, and
50 runs of a 10,000-point metric to compare. The studio's app runs in this process (``trainyard
studio``'s app, on a free port); Debian's Chromium opens it through Playwright. Measured, median
of ``REPEAT``:

* the runs page: from navigation to the first rows drawn (one page of 200 from ``runs/search``);
* a click on a metric's header to the first row of the new order drawn (the server sorts), from
  the click event in the page, and from Playwright's ``click()`` call (its checks included);
* ``POST /api/v1/runs/search`` for that page, newest first and ordered by a metric;
* the long run's page: from navigation to its chart drawn on the canvas, and the
  ``metric-series`` request it makes (the server cuts the series from its blocks' summaries);
* the compare page of the 50 runs: from navigation to every compare chart's canvas drawn, and
  its series as one batched ``GET /metric-series`` against 50 one-run requests in a row, cut to
  600 points (the compare chart's width here: from the blocks' summaries) and to 1,200 (from the rows).

With ``MLFLOW_PYTHON`` (an interpreter with the full ``mlflow`` package, in a venv of its own:
pip downgrades ``mlflow-skinny`` beside trainyard), ``mlflow_ui.py`` fills an MLflow store with
the same runs, starts ``mlflow server`` on it and times its runs page the same way.

``BENCH_STUDIO_CACHE=/some/folder`` keeps the filled workspace there and reuses it on the next
run of the same size (upgraded to the current schema first), so a 100,000-run figure can be
re-measured without writing the runs again; not with ``MLFLOW_PYTHON``, which needs the runs'
values in memory to fill MLflow's store.

Run: ``.venv/bin/python benchmarks/studio_runs_page.py`` (``make dev`` installs Chromium); with
MLflow: ``python -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install 'mlflow>=3.0'``, then
``MLFLOW_PYTHON=/tmp/mlflow-venv/bin/python .venv/bin/python benchmarks/studio_runs_page.py``.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import mlflow_ui

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

RUNS = int(os.environ.get("BENCH_STUDIO_RUNS", "5000"))
POINTS = int(os.environ.get("BENCH_STUDIO_POINTS", "1000000"))
COMPARED = 50
COMPARED_POINTS = 10_000
MLFLOW_PYTHON = os.environ.get("MLFLOW_PYTHON")  # an interpreter with the full mlflow package
CACHE = os.environ.get("BENCH_STUDIO_CACHE")
REPEAT = 5
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
# Every canvas under the selector (at least ``count``) has a pixel drawn.
DRAWN = """([selector, count]) => {
  const canvases = [...document.querySelectorAll(selector)];
  const drawn = canvas => {
    if (!canvas.width) return false;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
  };
  return canvases.length >= count && canvases.every(drawn);
}"""
# Checked on every animation frame: Playwright's locator waits and ``expect`` poll with a backoff
# (0, 20, 70, 170, 270, 770 ms, ...), which would add up to 500 ms to what is measured.
FIRST_ROW = """text => {
  const row = document.querySelector("[data-testid='run-row']");
  const cells = row ? [...row.querySelectorAll("td")].map(td => td.textContent.trim()) : [];
  return !!row && (text === null || cells.includes(text)) && performance.now();
}"""
# The page's clock when the click reaches it: Playwright's click() spends 100-300 ms on its own
# checks (visible, stable over two frames, not covered) before it sends the mouse events.
ON_CLICK = """() => document.addEventListener(
  "click", () => { window.clickedAt = performance.now(); }, { capture: true, once: true })"""


CHUNK = 2_000  # runs per insert: 100,000 runs' 6,000,000 rows are never all in memory


def _run_row(rid: str, experiment: str, name: str, created: float, start: float, end: float) -> dict:
    return dict(id=rid, experiment_id=experiment, parent_id=None, name=name, status="completed",
                created_at=created, start_time=start, end_time=end, heartbeat_at=end, attempt=1,
                cancel_requested=False)  # fmt: skip


def _write(conn, runs: list[dict], params: list[dict], metrics: list[dict]) -> None:  # noqa: ANN001
    """The rows ``create_run`` and ``log_batch`` write: the run, its params, every metric value,
    each series' newest in ``latest_metrics`` and the block summaries ``log_batch`` keeps."""
    from sqlalchemy import insert

    from trainyard.store.sql import blocks
    from trainyard.store.sql.models import LATEST, METRICS, PARAMS
    from trainyard.store.sql.models import RUNS as RUN_TABLE

    experiments = {r["id"]: r["experiment_id"] for r in runs}
    newest: dict[tuple[str, str], dict] = {}
    for m in metrics:
        newest[(m["run_id"], m["key"])] = {k: v for k, v in m.items() if k != "attempt"}
        newest[(m["run_id"], m["key"])]["experiment_id"] = experiments[m["run_id"]]
    for table, rows in ((RUN_TABLE, runs), (PARAMS, params), (METRICS, metrics)):
        if rows:
            conn.execute(insert(table), rows)
    if metrics:
        conn.execute(insert(LATEST), list(newest.values()))
        blocks.add(conn, metrics)


def _metric(rid: str, key: str, value: float, step: int, when: float) -> dict:
    return dict(run_id=rid, key=key, value=value, is_nan=False, negative_zero=False, step=step,
                timestamp=when, attempt=1)  # fmt: skip


def populate(ws) -> tuple[str, list[dict], str, list[str]]:  # noqa: ANN001 - a Workspace
    """The big experiment's id and its runs (name, params, metrics: what MLflow gets too), the id
    of the run with the long metric, and the compared runs' ids. Bulk-inserted in SQL in one
    transaction, the rows the store would write (as ``server_search.py`` does: writing 5,000
    runs through the Store takes minutes, 100,000 hours)."""
    started = time.perf_counter()
    experiment, long, compared = (ws.store.create_experiment(n).id for n in ("bench", "long", "compare"))
    rng = random.Random(7)
    now = time.time()
    big: list[dict] = []
    with ws.store.engine.begin() as conn:
        for first in range(0, RUNS, CHUNK):
            runs, params, metrics = [], [], []
            for i in range(first, min(first + CHUNK, RUNS)):
                rid = uuid.uuid4().hex
                end = now - rng.random() * 50
                p = {f"p{k}": str(rng.randint(0, 99)) for k in range(20)}
                m = {f"m{k}": rng.random() for k in range(20)}
                if MLFLOW_PYTHON:  # kept for MLflow's store
                    big.append(dict(name=f"run-{i}", start=now - 60, end=end, params=p, metrics=m))
                runs.append(_run_row(rid, experiment, f"run-{i}", now - RUNS + i, now - 60, end))
                params += [dict(run_id=rid, key=k, value=v) for k, v in p.items()]
                metrics += [_metric(rid, k, v, 0, now) for k, v in m.items()]
            _write(conn, runs, params, metrics)
        long_id = uuid.uuid4().hex
        long_run = _run_row(long_id, long, "long", now, now - POINTS, now)
        series = [_metric(long_id, "long", 1 / (1 + s / 1e4) + (s % 99_991 == 0), s, now - POINTS + s)
                  for s in range(POINTS)]  # fmt: skip
        _write(conn, [long_run], [], series)
        del series
        ids = [uuid.uuid4().hex for _ in range(COMPARED)]
        for n, rid in enumerate(ids):
            run = _run_row(rid, compared, f"c{n}", now + n, now - COMPARED_POINTS, now)
            decay = 1 + n / COMPARED
            values = [_metric(rid, "loss", decay / (1 + s / 500) + rng.random() * 0.02, s,
                              now - COMPARED_POINTS + s) for s in range(COMPARED_POINTS)]  # fmt: skip
            _write(conn, [run], [dict(run_id=rid, key="lr", value=str(decay))], values)
    print(f"# {RUNS:,} runs, a {POINTS:,}-point metric and {COMPARED} runs of {COMPARED_POINTS:,} points "
          f"written in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return experiment, big, long_id, ids


def filled(folder: Path):  # noqa: ANN201 - a Workspace and populate()'s ids
    """The workspace in ``folder``, filled by ``populate`` once per size; later runs reuse it."""
    from trainyard.store.upgrade import upgrade_schema
    from trainyard.workspace import Workspace

    done = folder / f"filled-{RUNS}-{POINTS}"
    if done.exists():
        unopened = Workspace.create(folder, connect=False)
        upgrade_schema(unopened._resolve(unopened.config.store))
        ws = Workspace.create(folder)
        named = {e.name: e.id for e in ws.store.list_experiments()}
        experiment, long, compared = (named[n] for n in ("bench", "long", "compare"))
        ids = [r.id for r in reversed(ws.store.search_runs([compared]))]
        print(f"# reusing the runs filled in {folder}")
        return ws, (experiment, [], ws.store.search_runs([long])[0].id, ids)
    shutil.rmtree(folder, ignore_errors=True)
    ws = Workspace.create(folder)
    ids = populate(ws)
    done.touch()
    return ws, ids


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def runs_page(page, url: str, top: str) -> tuple[list[float], list[float], list[float]]:  # noqa: ANN001
    """Navigation to the first rows drawn, and a click on ``metrics.m5`` to the first row of the
    new order (``top``) drawn, from the click event and from Playwright's ``click()``, in s."""
    first, sort, sort_wall = [], [], []
    for _ in range(REPEAT):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(FIRST_ROW, arg=None, timeout=120_000)
        first.append(time.perf_counter() - start)
        page.evaluate(ON_CLICK)
        start = time.perf_counter()
        page.get_by_title("sort by metrics.m5").click()
        drawn_at = page.wait_for_function(FIRST_ROW, arg=top, timeout=120_000).json_value()
        sort_wall.append(time.perf_counter() - start)
        sort.append((drawn_at - page.evaluate("window.clickedAt")) / 1000)
    return first, sort, sort_wall


def compare_requests(client: httpx.Client, compared: list[str], points: int) -> str:
    """The compare chart's series: one batched ``GET /metric-series`` against one request a run
    (what the page made before), sent one after another so that only the server's work differs.
    At 600 points (the page's chart at this viewport: 596 pixels) the series are cut from their
    blocks' summaries; at 1,200 from their rows."""
    params = {"key": "loss", "points": points}
    batched, singles = [], []
    for _ in range(REPEAT):
        start = time.perf_counter()
        client.get("/api/v1/metric-series", params={**params, "run_id": compared}).raise_for_status()
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        for rid in compared:
            client.get(f"/api/v1/runs/{rid}/metric-series", params=params).raise_for_status()
        singles.append(time.perf_counter() - start)
    ratio = statistics.median(singles) / statistics.median(batched)
    return (
        f"metric-series of {COMPARED} runs x {COMPARED_POINTS:,} points to {points:,}: one batched request "
        f"{median_ms(batched)}, {COMPARED} requests {median_ms(singles)} ({ratio:.1f}x)"
    )


def drawn_after(page, url: str, selector: str, count: int = 1) -> list[float]:  # noqa: ANN001
    """Seconds from navigation to ``url`` until ``count`` canvases under ``selector`` are drawn."""
    samples = []
    for _ in range(REPEAT):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(DRAWN, arg=[selector, count], timeout=120_000)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> list[str]:
    from playwright.sync_api import sync_playwright

    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.server.session import LocalSession
    from trainyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        if CACHE and not MLFLOW_PYTHON:
            ws, (experiment_id, big, long_id, compared) = filled(Path(CACHE))
        else:
            ws = Workspace.create(Path(tmp) / "ws")
            experiment_id, big, long_id, compared = populate(ws)
        top = ws.store.search_runs([experiment_id], order_by=["metrics.m5 DESC"], max_results=1)[0].name
        session = LocalSession()
        rows: list[str] = []
        with ThreadedServer(create_app(ws, local_session=session)) as server, sync_playwright() as p:
            client = httpx.Client(base_url=server.url, timeout=120)
            client.get("/studio/", params={"token": session.url_token})
            for label, order in (("newest first", None), ("ordered by metrics.m5", ["metrics.m5 DESC"])):
                body = {"experiment_ids": [experiment_id], "max_results": 200, "order_by": order}
                samples = []
                for _ in range(REPEAT):
                    start = time.perf_counter()
                    client.post("/api/v1/runs/search", json=body).raise_for_status()
                    samples.append(time.perf_counter() - start)
                rows.append(f"runs/search, a page of 200 of {RUNS:,} runs, {label}: {median_ms(samples)}")
            start = time.perf_counter()
            client.get(f"/api/v1/runs/{long_id}/metric-series", params={"key": "long", "points": 1200})
            rows.append(
                f"metric-series of {POINTS:,} points to 1,200: {median_ms([time.perf_counter() - start])}"
            )
            rows += [compare_requests(client, compared, points) for points in (600, 1200)]

            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{server.url}/studio/?token={session.url_token}")
            first, sort, sort_wall = runs_page(
                page, f"{server.url}/studio/#/experiments/{experiment_id}", top
            )
            rows.append(
                f"runs page, first rows drawn ({RUNS:,} runs, 20 params + 20 metrics): {median_ms(first)}"
            )
            rows.append(f"sort by a metric, the click event to first row drawn: {median_ms(sort)}")
            rows.append(f"the same, from Playwright's click() call: {median_ms(sort_wall)}")
            drawn = drawn_after(
                page, f"{server.url}/studio/#/runs/{long_id}", "[data-testid='chart-long'] canvas"
            )
            rows.append(
                f"run page with a {POINTS:,}-point metric, navigation to chart drawn: {median_ms(drawn)}"
            )
            url = f"{server.url}/studio/#/compare/{','.join(compared)}"
            drawn = drawn_after(page, url, "figure[data-testid^='compare-'] canvas")
            rows.append(
                f"compare of {COMPARED} runs x {COMPARED_POINTS:,} points, navigation to chart drawn: "
                f"{median_ms(drawn)}"
            )
            if MLFLOW_PYTHON:
                rows += mlflow_ui.compare(Path(tmp), MLFLOW_PYTHON, big, top, first, sort, page)
            browser.close()
            client.close()
        ws.close()
    return rows


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
