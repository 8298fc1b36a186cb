"""The screenshots in ``docs/studio.md``: the studio on a generated workspace, in headless Chromium.

Run: ``.venv/bin/python benchmarks/studio_screenshots.py`` (writes ``docs/studio/*.png``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "src"))
from studio_runs_page import CHROMIUM, DRAWN, FLAGS  # noqa: E402


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.server.session import LocalSession
    from trainyard.testing.studio_data import sample_experiment
    from trainyard.workspace import Workspace

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws")
        sample_experiment(ws, "baseline", runs=3, points=100)
        experiment, runs = sample_experiment(
            ws, "resnet-sweep", runs=40, points=500, running=2, metrics=4, params=4
        )
        session = LocalSession()
        with ThreadedServer(create_app(ws, local_session=session)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(f"{server.url}/studio/?token={session.url_token}")
            page.goto(f"{server.url}/studio/#/experiments/{experiment.id}")
            page.get_by_title("sort by metrics.loss").click()
            page.get_by_test_id("run-row").first.wait_for()
            for name in ("run-0", "run-1", "run-2"):
                page.get_by_label(f"select {name}", exact=True).check()
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "runs.png"))
            page.goto(f"{server.url}/studio/#/runs/{runs[-1].id}")
            page.wait_for_function(DRAWN, arg="[data-testid='chart-loss'] canvas")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "run.png"))
            chosen = ",".join(run.id for run in runs[::8])
            page.goto(f"{server.url}/studio/#/compare/{chosen}")
            page.wait_for_function(DRAWN, arg="[data-testid='compare-loss'] canvas")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "compare.png"))
            browser.close()
        ws.close()


if __name__ == "__main__":
    main(ROOT / "docs" / "studio")
