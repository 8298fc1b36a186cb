"""MLflow's UI beside the studio's runs page, for ``studio_runs_page.py``: ``mlflow server`` (in
``MLFLOW_PYTHON``, an interpreter with the full ``mlflow`` package) on its own SQLite store,
filled with the same runs by ``_mlflow_fill.py``, and its experiment's runs page timed in the
same Chromium: navigation to the first rows drawn, and a sort by a metric to the first row of
the new order drawn. MLflow sorts from its URL (the *Sort* menu writes ``orderByKey`` there), so
the sort is timed from setting the page's hash to the sorted URL; the studio's from the click
event on a metric's header."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

from _server import process

from trainyard.server.running import free_port

REPEAT = 5
FILL = Path(__file__).parent / "_mlflow_fill.py"
# MLflow's table (AG Grid) draws a row as one element per pinned part: any of row 0's links.
FIRST_ROW = """([text, exact]) => {
  const links = [...document.querySelectorAll(".ag-row[row-index='0'] a")].map(a => a.textContent.trim());
  return links.some(t => exact ? t === text : t.startsWith(text)) && performance.now();
}"""
SORTED = "#/experiments/{id}/runs?orderByKey=metrics.%60m5%60&orderByAsc=false"
SET_HASH = "hash => { window.location.hash = hash; return performance.now(); }"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def compare(tmp: Path, python: str, runs: list[dict], top: str, first: list[float], sort: list[float],
            page) -> list[str]:  # noqa: ANN001 - a Playwright page  # fmt: skip
    """Rows of the report: MLflow's two figures and their ratio to the studio's (``first`` and
    ``sort``, in s, measured on the same runs)."""
    (tmp / "runs.json").write_text(json.dumps(runs))
    db, artifacts = tmp / "mlflow.sqlite", tmp / "mlflow-artifacts"
    started = time.perf_counter()
    fill = [python, str(FILL), str(db), str(artifacts), str(tmp / "runs.json")]
    experiment = subprocess.run(fill, check=True, capture_output=True, text=True).stdout.split()[-1]
    rows = [f"# MLflow store filled with {len(runs):,} runs in {time.perf_counter() - started:.0f} s"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}", "--workers", "1"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--artifacts-destination", str(artifacts)]
    with process(args, f"{url}/health", tmp / "mlflow.log"):  # stops the server, whatever happens
        page.goto(f"{url}/#/experiments/{experiment}/runs")  # its assets cached, as the studio's are
        page.wait_for_function(FIRST_ROW, arg=["run-", False], timeout=300_000)
        loaded, sorted_ = [], []
        for _ in range(REPEAT):
            page.goto("about:blank")
            start = time.perf_counter()
            page.goto(f"{url}/#/experiments/{experiment}/runs")
            page.wait_for_function(FIRST_ROW, arg=["run-", False], timeout=300_000)
            loaded.append(time.perf_counter() - start)
            set_at = page.evaluate(SET_HASH, SORTED.format(id=experiment))
            drawn_at = page.wait_for_function(FIRST_ROW, arg=[top, True], timeout=300_000).json_value()
            sorted_.append((drawn_at - set_at) / 1000)
    mine, theirs = _median_ms(first), _median_ms(loaded)
    version = _version(python)
    rows.append(f"MLflow {version} runs page, first rows drawn ({len(runs):,} runs): {theirs:.0f} ms "
                f"(studio {mine:.0f} ms, MLflow / studio {theirs / mine:.1f}x)")  # fmt: skip
    mine, theirs = _median_ms(sort), _median_ms(sorted_)
    rows.append(f"MLflow sort by a metric, URL set to first row drawn: {theirs:.0f} ms "
                f"(studio {mine:.0f} ms from the click, MLflow / studio {theirs / mine:.1f}x)")  # fmt: skip
    return rows


def _version(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True
    )
    return done.stdout.strip()
