"""The screenshots in ``docs/designer.md`` and the designer's figures: Submit timed from the click
to the run named above the canvas and to its first step running, against ``submit_pipeline``
(what ``trainyard pipeline submit`` calls) on the same YAML; a 200-module pipeline opened from
its YAML, timed from the click until every module is on the canvas, then until a click on one
shows its parameters. Headless Chromium on a generated workspace; the submitted run runs, and the canvas with
every module completed and Evaluate Model's panel is the third screenshot.

Run: ``.venv/bin/python benchmarks/designer_screenshots.py`` (writes ``docs/studio/designer*.png``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "src"))
from studio_runs_page import CHROMIUM, FLAGS  # noqa: E402

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

SAMPLE = """\
type: pipeline
experiment_name: income
jobs:
  load:
    component: azureml:import-data
    inputs:
      path: {csv}
  clean:
    component: azureml:clean-missing-data
    inputs:
      dataset: ${{{{parent.jobs.load.outputs.dataset}}}}
  split:
    component: azureml:split-data
    inputs:
      dataset: ${{{{parent.jobs.clean.outputs.cleaned_dataset}}}}
      fraction: 0.8
  learner:
    component: azureml:two-class-boosted-decision-tree
  train:
    component: azureml:train-model
    inputs:
      untrained_model: ${{{{parent.jobs.learner.outputs.untrained_model}}}}
      dataset: ${{{{parent.jobs.split.outputs.results1}}}}
      label_column: income
  score:
    component: azureml:score-model
    inputs:
      trained_model: ${{{{parent.jobs.train.outputs.trained_model}}}}
      dataset: ${{{{parent.jobs.split.outputs.results2}}}}
  evaluate:
    component: azureml:evaluate-model
    inputs:
      scored_dataset: ${{{{parent.jobs.score.outputs.scored_dataset}}}}
"""

FORCED = "settings:\n  force_rerun: true\n"  # run again, not reused from the designer's run


def chain(steps: int) -> str:
    """A pipeline of ``steps`` modules: Import Data, then Clean Missing Data after Clean Missing Data."""
    lines = ["type: pipeline", "jobs:", "  s0:", "    component: azureml:import-data"]
    lines += ["    inputs: {path: x.csv}"]
    for i in range(1, steps):
        source = "dataset" if i == 1 else "cleaned_dataset"
        lines += [
            f"  s{i}:",
            "    component: azureml:clean-missing-data",
            "    inputs:",
            f"      dataset: ${{{{parent.jobs.s{i - 1}.outputs.{source}}}}}",
        ]
    return "\n".join(lines) + "\n"


def open_yaml(page, text: str) -> None:  # noqa: ANN001 - playwright's Page
    page.get_by_role("button", name="YAML", exact=True).click()
    page.get_by_label("pipeline YAML").fill(text)
    page.get_by_role("button", name="Open this YAML").click()


def first_step_started(ws: Workspace, run_id: str, began: float) -> float:
    """Seconds from ``began`` until a step of the pipeline run ``run_id`` has started running."""
    while not any(step.start_time for step in ws.store.search_runs(parent_id=run_id)):
        time.sleep(0.01)
    return time.perf_counter() - began


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from trainyard.pipelines.spec import parse_pipeline
    from trainyard.pipelines.submit import submit_pipeline
    from trainyard.sdk.run import Run
    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.server.session import LocalSession
    from trainyard.workspace import Workspace

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws")
        csv = Path(tmp) / "income.csv"
        csv.write_text("age,hours,income\n" + "".join(f"{20 + i},{30 + i % 20},{i % 2}\n" for i in range(50)))
        session = LocalSession()
        with ThreadedServer(create_app(ws, local_session=session)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(f"{server.url}/studio/?token={session.url_token}")
            page.goto(f"{server.url}/studio/#/designer")
            page.get_by_text("Data Input and Output").wait_for(timeout=60_000)
            open_yaml(page, SAMPLE.format(csv=csv))
            page.get_by_test_id("node-split").get_by_text("Split Data").click()
            page.get_by_test_id("param-fraction").fill("1.2")
            page.get_by_test_id("out-learner.untrained_model").click()
            page.get_by_test_id("in-score.dataset").click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "designer.png"))
            page.get_by_test_id("param-fraction").fill("0.8")
            page.get_by_role("button", name="YAML", exact=True).click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "designer-yaml.png"))
            page.get_by_role("button", name="YAML", exact=True).click()
            began = time.perf_counter()
            page.get_by_role("button", name="Submit").click()
            page.get_by_test_id("designer-run-link").wait_for()
            from_page = time.perf_counter() - began
            run_id = (page.get_by_test_id("designer-run-link").get_attribute("href") or "").rsplit("/", 1)[1]
            page_step = first_step_started(ws, run_id, began)

            # a local session's Submit runs on the workspace's local compute, as trainyard studio's
            done = page.get_by_test_id("status-evaluate").and_(page.locator('[data-status="completed"]'))
            done.wait_for(timeout=300_000)
            page.get_by_test_id("node-evaluate").get_by_text("Evaluate Model").click()
            page.get_by_test_id("image-roc_curve").locator("img").wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "designer-run.png"))
            # the same YAML through submit_pipeline, once the designer's run is over (its own cores)
            began = time.perf_counter()
            direct_run = submit_pipeline(ws, parse_pipeline(SAMPLE.format(csv=csv) + FORCED))
            direct = time.perf_counter() - began
            direct_step = first_step_started(ws, direct_run.id, began)
            Run(ws, direct_run.id).wait_for_completion(raise_on_error=False)  # before its folder goes
            print(f"submit: click to the run named {from_page:.2f} s; submit_pipeline {direct:.2f} s")
            print(
                f"submit to the first step running: designer {page_step:.2f} s, submit_pipeline "
                f"{direct_step:.2f} s ({page_step - direct_step:+.2f} s)"
            )

            page.goto(f"{server.url}/studio/#/designer")
            page.get_by_role("button", name="YAML", exact=True).click()
            page.get_by_label("pipeline YAML").fill(chain(200))
            began = time.perf_counter()
            page.get_by_role("button", name="Open this YAML").click()
            page.get_by_test_id("node-s199").wait_for()
            opened = time.perf_counter() - began
            began = time.perf_counter()
            page.get_by_test_id("node-s199").get_by_text("Clean Missing Data").click()
            page.get_by_test_id("inspector").get_by_text("s199").wait_for()
            selected = time.perf_counter() - began
            print(f"200 modules: on the canvas {opened:.2f} s after the click; one selected {selected:.2f} s")
            browser.close()
        ws.close()


if __name__ == "__main__":
    main(ROOT / "docs" / "studio")
