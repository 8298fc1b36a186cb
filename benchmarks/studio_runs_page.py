"""The studio in headless Chromium: the runs page of a large experiment, sorting it, and a long chart.

An embedded workspace gets ``BENCH_STUDIO_RUNS`` runs (5,000 by default) with 20 params and 20
metrics each, and one more run with a ``BENCH_STUDIO_POINTS``-point metric (1,000,000 by
default) with a spike every 99,991 steps. The studio's app runs in this process (``trainyard
studio``'s app, on a free port); Debian's Chromium opens it through Playwright. Measured, median
of ``REPEAT``:

* the runs page: from navigation to the first rows drawn (one page of 200 from ``runs/search``);
* a click on a metric's header to the first row of the new order drawn (the server sorts), from
  the click event in the page, and from Playwright's ``click()`` call (its checks included);
* ``POST /api/v1/runs/search`` for that page, newest first and ordered by a metric;
* the long run's page: from navigation to its chart drawn on the canvas, and the
  ``metric-series`` request it makes (the server cuts the series from its blocks' summaries).

MLflow's UI is not measured here: ``mlflow server`` needs the full ``mlflow`` package (the
``bench`` extra), which was not installed where this was written.

Run: ``.venv/bin/python benchmarks/studio_runs_page.py`` (``make dev`` installs Chromium).
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

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

RUNS = int(os.environ.get("BENCH_STUDIO_RUNS", "5000"))
POINTS = int(os.environ.get("BENCH_STUDIO_POINTS", "1000000"))
REPEAT = 5
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
DRAWN = """selector => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width) return false;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}"""
# Checked on every animation frame: Playwright's locator waits and ``expect`` poll with a backoff
# (0, 20, 70, 170, 270, 770 ms, ...), which would add up to 500 ms to what is measured.
FIRST_ROW = """text => {
  const row = document.querySelector("[data-testid='run-row']");
  return !!row && (text === null || row.textContent.includes(text)) && performance.now();
}"""
# The page's clock when the click reaches it: Playwright's click() spends 100-300 ms on its own
# checks (visible, stable over two frames, not covered) before it sends the mouse events.
ON_CLICK = """() => document.addEventListener(
  "click", () => { window.clickedAt = performance.now(); }, { capture: true, once: true })"""


def populate(ws) -> tuple[str, str]:  # noqa: ANN001 - a Workspace
    """The big experiment's id and the id of the run with the long metric, bulk-inserted in SQL
    (as ``server_search.py`` does: writing 5,000 runs through the Store takes minutes)."""
    from sqlalchemy import insert

    from trainyard.store.sql import blocks
    from trainyard.store.sql.models import LATEST, METRICS, PARAMS
    from trainyard.store.sql.models import RUNS as RUN_TABLE

    started = time.perf_counter()
    engine = ws.store.engine
    experiment = ws.store.create_experiment("bench").id
    rng = random.Random(7)
    now = time.time()
    runs, params, metrics = [], [], []
    for i in range(RUNS):
        rid = uuid.uuid4().hex
        runs.append(dict(id=rid, experiment_id=experiment, parent_id=None, name=f"run-{i}",
                         status="completed", created_at=now - RUNS + i, start_time=now - 60,
                         end_time=now - rng.random() * 50, heartbeat_at=now, attempt=1,
                         cancel_requested=False))  # fmt: skip
        params += [dict(run_id=rid, key=f"p{k}", value=str(rng.randint(0, 99))) for k in range(20)]
        metrics += [dict(run_id=rid, key=f"m{k}", value=rng.random(), is_nan=False, step=0, timestamp=now)
                    for k in range(20)]  # fmt: skip
    long = ws.store.create_experiment("long").id
    long_id = uuid.uuid4().hex
    runs.append(dict(id=long_id, experiment_id=long, parent_id=None, name="long", status="completed",
                     created_at=now, start_time=now - POINTS, end_time=now, heartbeat_at=now, attempt=1,
                     cancel_requested=False))  # fmt: skip
    series = [dict(run_id=long_id, key="long", value=1 / (1 + s / 1e4) + (s % 99_991 == 0), is_nan=False,
                   step=s, timestamp=now - POINTS + s) for s in range(POINTS)]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(RUN_TABLE), runs)
        conn.execute(insert(PARAMS), params)
        conn.execute(insert(METRICS), metrics)
        conn.execute(insert(LATEST), metrics)
        conn.execute(insert(METRICS), series)
        conn.execute(insert(LATEST), [series[-1]])
        blocks.rebuild(conn)  # the summaries log_batch keeps, for rows inserted around it
    print(f"# {RUNS} runs and a {POINTS:,}-point metric written in {time.perf_counter() - started:.0f} s")
    return experiment, long_id


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def main() -> list[str]:
    from playwright.sync_api import sync_playwright

    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.server.session import LocalSession
    from trainyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws")
        experiment_id, long_id = populate(ws)
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
                rows.append(f"runs/search, a page of 200 of {RUNS} runs, {label}: {median_ms(samples)}")
            start = time.perf_counter()
            client.get(f"/api/v1/runs/{long_id}/metric-series", params={"key": "long", "points": 1200})
            rows.append(
                f"metric-series of {POINTS:,} points to 1,200: {median_ms([time.perf_counter() - start])}"
            )

            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{server.url}/studio/?token={session.url_token}")
            first, sort, sort_wall = [], [], []
            for _ in range(REPEAT):
                page.goto("about:blank")
                start = time.perf_counter()
                page.goto(f"{server.url}/studio/#/experiments/{experiment_id}")
                page.wait_for_function(FIRST_ROW, arg=None, timeout=60_000)
                first.append(time.perf_counter() - start)
                page.evaluate(ON_CLICK)
                start = time.perf_counter()
                page.get_by_title("sort by metrics.m5").click()
                drawn_at = page.wait_for_function(FIRST_ROW, arg=top, timeout=60_000).json_value()
                sort_wall.append(time.perf_counter() - start)
                sort.append((drawn_at - page.evaluate("window.clickedAt")) / 1000)
            rows.append(
                f"runs page, first rows drawn ({RUNS} runs, 20 params + 20 metrics): {median_ms(first)}"
            )
            rows.append(f"sort by a metric, the click event to first row drawn: {median_ms(sort)}")
            rows.append(f"the same, from Playwright's click() call: {median_ms(sort_wall)}")
            drawn = []
            for _ in range(REPEAT):
                page.goto("about:blank")
                start = time.perf_counter()
                page.goto(f"{server.url}/studio/#/runs/{long_id}")
                page.wait_for_function(DRAWN, arg="[data-testid='chart-long'] canvas", timeout=120_000)
                drawn.append(time.perf_counter() - start)
            rows.append(
                f"run page with a {POINTS:,}-point metric, navigation to chart drawn: {median_ms(drawn)}"
            )
            browser.close()
            client.close()
        ws.close()
    return rows


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
