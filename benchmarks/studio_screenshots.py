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
    from trainyard.status import DeploymentStatus
    from trainyard.store import DeploymentUpdate, EndpointUpdate
    from trainyard.testing.studio_data import sample_experiment, sample_pipeline, sample_sweep
    from trainyard.workspace import Workspace

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws")
        sample_experiment(ws, "baseline", runs=3, points=100)
        experiment, runs = sample_experiment(
            ws, "resnet-sweep", runs=40, points=500, running=2, metrics=4, params=4
        )
        tuning = ws.store.create_experiment("tuning").id  # not in the runs page's shot
        sweep = sample_sweep(ws, tuning, trials=12, stopped=(1, 5, 8))
        pipeline = sample_pipeline(ws, tuning)
        for run in runs[:3]:
            ws.store.create_model_version(
                "resnet", source=f"runs:/{run.id}/model", files=["MLmodel"], run_id=run.id
            )
        ws.store.set_model_alias("resnet", "prod", 2)
        ws.store.set_model_alias("resnet", "canary", 3)
        ws.store.create_endpoint("resnet-ep", 5001, "primary", "secondary")
        for name, version in (("blue", 2), ("green", 3)):
            ws.store.create_deployment("resnet-ep", name, "resnet", version, 2)
            ws.store.update_deployment("resnet-ep", name, DeploymentUpdate(status=DeploymentStatus.READY))
        ws.store.update_endpoint("resnet-ep", EndpointUpdate(traffic={"blue": 90, "green": 10}))
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
            shots = {
                "models.png": ("#/models/resnet", "[data-testid='model-version']"),
                "endpoint.png": ("#/endpoints/resnet-ep", "[data-testid='deployment']"),
                "pipeline.png": (f"#/runs/{pipeline.id}", "[data-testid='dag-step']"),
                "sweep.png": (f"#/runs/{sweep.id}", "[data-testid='trial-row']"),
            }
            for name, (where, shown) in shots.items():
                page.goto(f"{server.url}/studio/{where}")
                page.wait_for_selector(shown)
                if name == "sweep.png":
                    page.wait_for_function(DRAWN, arg="[data-testid='compare-loss'] canvas")
                    page.get_by_test_id("parallel").scroll_into_view_if_needed()
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / name))
            browser.close()
        ws.close()


if __name__ == "__main__":
    main(ROOT / "docs" / "studio")
