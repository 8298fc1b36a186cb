"""The studio in headless Chromium: the runs page of a large experiment, sorting it, and a long chart.

An embedded workspace gets ``BENCH_STUDIO_RUNS`` runs (5,000 by default) with 20 params and 20
metrics each (3 steps per metric), and one more run with a ``BENCH_STUDIO_POINTS``-point metric
(1,000,000 by default). The studio's app runs in this process (``trainyard studio``'s app, on a
free port); Debian's Chromium opens it through Playwright. Measured, median of ``REPEAT``:

* the runs page: from navigation to the first rows drawn (one page of 200 from ``runs/search``);
* a click on a metric's header to the first row of the new order drawn (the server sorts);
* ``POST /api/v1/runs/search`` for that page, newest first and ordered by a metric;
* the long run's page: from navigation to its chart drawn on the canvas, and the
  ``metric-series`` request it makes (the server reads the whole series, keeps min/max per bucket).

MLflow's UI is not measured here: ``mlflow server`` needs the full ``mlflow`` package (the
``bench`` extra), which was not installed where this was written.

Run: ``.venv/bin/python benchmarks/studio_runs_page.py [--screenshots docs/studio]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
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


def populate(ws) -> tuple[str, str]:  # noqa: ANN001 - a Workspace
    """The big experiment's id and the id of the run with the long metric."""
    from trainyard.status import RunStatus
    from trainyard.store import Metric
    from trainyard.testing.studio_data import BATCH, sample_experiment

    started = time.perf_counter()
    experiment, _ = sample_experiment(ws, "bench", runs=RUNS, points=3, metrics=20, params=20)
    print(f"# {RUNS} runs written in {time.perf_counter() - started:.0f} s", flush=True)
    long = ws.store.create_experiment("long")
    run = ws.store.create_run(long.id, name="long", status=RunStatus.RUNNING)
    now = time.time()
    for start in range(0, POINTS, BATCH):
        batch = [
            Metric("long", 1 / (1 + s / 1e4) + (s % 997 == 0), s, now + s)
            for s in range(start, start + BATCH)
        ]
        ws.store.log_batch(run.id, batch)
    ws.store.set_status(run.id, RunStatus.COMPLETED)
    print(f"# {POINTS} points written, {time.perf_counter() - started:.0f} s in all", flush=True)
    return experiment.id, run.id


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def main(screenshots: Path | None) -> list[str]:
    from playwright.sync_api import expect, sync_playwright

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
            first, sort = [], []
            for _ in range(REPEAT):
                page.goto("about:blank")
                start = time.perf_counter()
                page.goto(f"{server.url}/studio/#/experiments/{experiment_id}")
                page.get_by_test_id("run-row").first.wait_for()
                first.append(time.perf_counter() - start)
                start = time.perf_counter()
                page.get_by_title("sort by metrics.m5").click()
                expect(page.get_by_test_id("run-row").first).to_contain_text(top, timeout=60_000)
                sort.append(time.perf_counter() - start)
            rows.append(
                f"runs page, first rows drawn ({RUNS} runs, 20 params + 20 metrics): {median_ms(first)}"
            )
            rows.append(f"sort by a metric, click to first row drawn: {median_ms(sort)}")
            if screenshots:
                screenshots.mkdir(parents=True, exist_ok=True)
                page.get_by_test_id("runs-scroller").evaluate("element => { element.scrollLeft = 0; }")
                page.screenshot(path=str(screenshots / "runs.png"))
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
            if screenshots:
                page.goto(f"{server.url}/studio/#/experiments/{experiment_id}")
                page.get_by_test_id("run-row").first.wait_for()
                page.get_by_test_id("run-row").first.get_by_role("link").click()
                page.get_by_test_id("chart-m5").locator("canvas").wait_for()
                page.wait_for_timeout(500)
                page.screenshot(path=str(screenshots / "run.png"), full_page=True)
            browser.close()
            client.close()
        ws.close()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", type=Path, help="save the runs page and a run page as PNGs here")
    for line in main(parser.parse_args().screenshots):
        print(line, flush=True)
