"""The designer in Debian's Chromium, driven by Playwright on ``trainyard studio``: modules dragged
and clicked onto the canvas, wired, a connection of another kind refused with the CLI's words,
an out-of-range parameter refused as it is typed, undo and redo, and Submit, which queues the
pipeline and links its run's page; the draft is still there after, a module duplicates, and a
pipeline written by hand opens and saves back unchanged, a sample opens from the Samples list.
A classifier's pipeline submitted from the designer shows each module's status until it ends,
and Evaluate Model clicked shows its run, its curves and confusion matrix, and its report's
tables. Execute Python Script's script is typed into its Python code editor and saved into the
draft, the YAML and the submitted pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_studio_browser import CHROMIUM, FLAGS, _need_browser
from tests.e2e.test_studio_browser import studio as studio  # noqa: F401 - the fixture, reused
from trainyard.data.assets import Data
from trainyard.workspace import Workspace

WRITTEN = """\
type: pipeline
experiment_name: churn
display_name: written by hand
inputs:
  rows: {type: uri_file, path: "azureml:churn:2"}
settings: {default_compute: local, force_rerun: true}
jobs:
  load:
    component: azureml:import-data
    inputs: {path: "${{parent.inputs.rows}}"}
  split:
    component: azureml:split-data:1
    compute: local
    display_name: split it
    inputs:
      dataset: ${{parent.jobs.load.outputs.dataset}}
      fraction: 0.25
"""


@pytest.fixture
def page(studio: tuple[str, Workspace]) -> Iterator[object]:  # noqa: F811 - the imported fixture
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    url, _ = studio
    # the submitted pipeline runs on this machine's cores while the page is checked further
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            opened = browser.new_page(viewport={"width": 1400, "height": 860})
            opened.goto(url, wait_until="load")
            yield opened
        finally:
            browser.close()
            expect.set_options(timeout=5_000)  # Playwright's default, for the tests after this one


def test_draw_wire_check_and_submit_a_pipeline(
    page,  # noqa: ANN001 - playwright's Page
    studio: tuple[str, Workspace],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    _, ws = studio
    csv = tmp_path / "rows.csv"
    csv.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    Data.create(ws, "rows", csv)
    page.get_by_role("link", name="Designer", exact=True).click()
    palette, canvas = page.get_by_test_id("palette"), page.get_by_test_id("canvas")
    # the server imports every module the first time it lists them (seconds on a busy machine)
    expect(palette).to_contain_text("Data Input and Output", timeout=60_000)

    palette.get_by_role("button", name="Import Data").drag_to(canvas, target_position={"x": 200, "y": 60})
    page.get_by_placeholder("Search modules").fill("split")
    expect(palette.get_by_role("button", name="Train Model")).to_have_count(0)  # the search narrows it
    palette.get_by_role("button", name="Split Data").click()
    page.get_by_placeholder("Search modules").fill("two-class logistic")
    palette.get_by_role("button", name="Two-Class Logistic Regression").click()
    page.get_by_placeholder("Search modules").fill("")
    for node in ("import_data_1", "split_data_1", "two_class_logistic_regression_1"):
        expect(page.get_by_test_id(f"node-{node}")).to_be_visible()

    message = page.get_by_test_id("designer-message")
    page.get_by_test_id("out-two_class_logistic_regression_1.untrained_model").click()
    page.get_by_test_id("in-split_data_1.dataset").click()
    expect(message).to_have_text(
        "step 'split_data_1' input 'dataset' takes a table but is wired to a untrained_model"
    )
    page.get_by_test_id("out-import_data_1.dataset").click()
    page.get_by_test_id("in-split_data_1.dataset").click()
    expect(page.get_by_test_id("wire-import_data_1.dataset-split_data_1.dataset")).to_have_count(1)

    page.get_by_test_id("node-two_class_logistic_regression_1").get_by_text("Two-Class Logistic").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("node-two_class_logistic_regression_1")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("node-two_class_logistic_regression_1")).to_have_count(1)
    page.get_by_role("button", name="Redo").click()
    expect(page.get_by_test_id("node-two_class_logistic_regression_1")).to_have_count(0)

    page.get_by_test_id("node-import_data_1").get_by_text("Import Data").click()
    page.get_by_test_id("param-path").fill("azureml:rows:1")  # offered by the field's list
    page.get_by_test_id("node-split_data_1").get_by_text("Split Data").click()
    page.get_by_test_id("param-fraction").fill("1.5")
    expect(page.get_by_test_id("param-error-fraction")).to_have_text(
        "fraction must be between 0 and 1 (exclusive), got 1.5"
    )
    page.get_by_role("button", name="Submit").click()
    expect(message).to_contain_text("fix the parameters first: fraction must be between 0 and 1")
    page.get_by_test_id("param-fraction").fill("0.6")
    expect(page.get_by_test_id("param-error-fraction")).to_have_count(0)

    page.get_by_role("button", name="Submit").click()
    link = page.get_by_test_id("designer-run-link")  # the canvas now shows the run's steps
    expect(link).to_be_visible()
    expect(page.get_by_test_id("status-split_data_1")).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r".*#/runs/[0-9a-f]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    run = ws.store.get_run(run_id)
    assert sorted(run.job["steps"]) == ["import_data_1", "split_data_1"]
    assert run.job["steps"]["split_data_1"]["params"] == {"fraction": 0.6}
    assert run.job["inputs"]["import_data_1_path"]["asset"] == "rows:1"  # pinned at submit
    expect(page.get_by_text(run_id).first).to_be_visible()

    page.get_by_role("link", name="Designer", exact=True).click()  # the draft was kept in the browser
    expect(page.get_by_test_id("node-split_data_1")).to_be_visible()
    page.get_by_test_id("node-split_data_1").get_by_text("Split Data").click()
    page.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_test_id("node-split_data_2")).to_be_visible()
    expect(page.get_by_test_id("param-fraction")).to_have_value("0.6")  # the copy's parameters

    page.get_by_test_id("palette").get_by_role("button", name="rows v1").click()  # a data asset
    expect(page.get_by_test_id("node-import_data_2")).to_be_visible()
    expect(page.get_by_test_id("param-path")).to_have_value("azureml:rows:1")

    page.get_by_role("button", name="YAML", exact=True).click()
    page.get_by_label("pipeline YAML").fill(WRITTEN)
    page.get_by_role("button", name="Open this YAML").click()
    expect(page.get_by_test_id("node-split")).to_be_visible()
    expect(page.get_by_test_id("wire-load.dataset-split.dataset")).to_have_count(1)
    page.get_by_role("button", name="YAML", exact=True).click()
    saved = page.get_by_label("pipeline YAML").input_value()
    assert yaml.safe_load(saved) == yaml.safe_load(WRITTEN)

    page.get_by_role("button", name="YAML", exact=True).click()  # closed again
    page.get_by_label("open a sample").select_option(label="Regression: automobile price prediction")
    for node in ("import_data", "clean", "split", "learner", "train", "score", "evaluate"):
        expect(page.get_by_test_id(f"node-{node}")).to_be_visible()
    expect(page.get_by_test_id("wire-score.scored_dataset-evaluate.scored_dataset")).to_have_count(1)
    expect(page.get_by_test_id("palette")).to_contain_text("sample-automobile-price")  # its data asset
    page.get_by_role("button", name="YAML", exact=True).click()
    sample = yaml.safe_load(page.get_by_label("pipeline YAML").input_value())
    assert sample["inputs"]["data"]["path"] == "azureml:sample-automobile-price:1"


SCRIPT = """\
import pandas as pd
def azureml_main(dataframe1 = None, dataframe2 = None):
    return pd.DataFrame({"n": [1, 2]}),
"""


def test_execute_python_script_is_edited_in_a_python_code_editor_and_saved_into_the_pipeline(
    page,  # noqa: ANN001 - playwright's Page
    studio: tuple[str, Workspace],  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    _, ws = studio
    page.get_by_role("link", name="Designer", exact=True).click()
    palette, canvas = page.get_by_test_id("palette"), page.get_by_test_id("canvas")
    expect(palette).to_contain_text("Python Language", timeout=60_000)
    palette.get_by_role("button", name="Execute Python Script").drag_to(
        canvas, target_position={"x": 200, "y": 60}
    )
    expect(page.get_by_test_id("node-execute_python_script_1")).to_be_visible()

    field = page.get_by_test_id("param-script")
    editor = page.get_by_label("script (Python)")
    expect(editor).to_contain_text("def azureml_main(dataframe1 = None, dataframe2 = None):")  # the template
    expect(
        field.locator(".cm-line", has_text="def azureml_main").locator("span", has_text="def")
    ).to_have_count(1)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(SCRIPT + "#")
    page.keyboard.press("Backspace")  # typed in the editor: not a Delete of the module
    expect(editor).to_contain_text('return pd.DataFrame({"n": [1, 2]}),')
    expect(editor).not_to_contain_text("#")
    expect(page.get_by_test_id("node-execute_python_script_1")).to_be_visible()
    draft = page.evaluate("JSON.parse(localStorage.getItem('trainyard.designer.draft'))")
    assert draft["nodes"][0]["params"] == {"script": SCRIPT}  # the draft the browser keeps

    page.get_by_role("button", name="Expand").click()
    expect(field).to_have_class(re.compile(r"\bexpanded\b"))
    page.get_by_role("button", name="Close").click()
    expect(field).not_to_have_class(re.compile(r"\bexpanded\b"))

    page.get_by_role("button", name="YAML", exact=True).click()
    step = yaml.safe_load(page.get_by_label("pipeline YAML").input_value())["jobs"]["execute_python_script_1"]
    assert step == {"component": "azureml:execute-python-script", "inputs": {"script": SCRIPT}}
    page.get_by_role("button", name="YAML", exact=True).click()

    page.get_by_role("button", name="Submit").click()
    link = page.get_by_test_id("designer-run-link")
    expect(link).to_be_visible()
    run = ws.store.get_run(link.get_attribute("href").rsplit("/", 1)[1])
    assert run.job["steps"]["execute_python_script_1"]["params"] == {"script": SCRIPT}


CLASSIFIER = """\
type: pipeline
experiment_name: designer-live
inputs:
  rows: {type: uri_file, path: "azureml:cancer:1"}
jobs:
  load:
    component: azureml:import-data
    inputs: {path: "${{parent.inputs.rows}}"}
  split:
    component: azureml:split-data
    inputs: {dataset: "${{parent.jobs.load.outputs.dataset}}", fraction: 0.7}
  learner:
    component: azureml:two-class-logistic-regression
  train:
    component: azureml:train-model
    inputs:
      untrained_model: ${{parent.jobs.learner.outputs.untrained_model}}
      dataset: ${{parent.jobs.split.outputs.results1}}
      label_column: target
  score:
    component: azureml:score-model
    inputs:
      trained_model: ${{parent.jobs.train.outputs.trained_model}}
      dataset: ${{parent.jobs.split.outputs.results2}}
  evaluate:
    component: azureml:evaluate-model
    inputs: {scored_dataset: "${{parent.jobs.score.outputs.scored_dataset}}"}
"""
STEPS = ("load", "split", "learner", "train", "score", "evaluate")


def test_a_submitted_pipeline_shows_each_modules_status_and_evaluate_models_output(
    page,  # noqa: ANN001 - playwright's Page
    studio: tuple[str, Workspace],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect
    from sklearn.datasets import load_breast_cancer

    _, ws = studio
    cancer = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, 3, -1]]
    csv = tmp_path / "cancer.csv"
    cancer.to_csv(csv, index=False)
    Data.create(ws, "cancer", csv)
    page.get_by_role("link", name="Designer", exact=True).click()
    expect(page.get_by_test_id("palette")).to_contain_text("Data Input and Output", timeout=60_000)
    page.get_by_role("button", name="YAML", exact=True).click()
    page.get_by_label("pipeline YAML").fill(CLASSIFIER)
    page.get_by_role("button", name="Open this YAML").click()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_test_id("designer-run-link")).to_be_visible()
    run_id = page.get_by_test_id("designer-run-link").get_attribute("href").rsplit("/", 1)[1]
    for step in STEPS:  # each module turns completed as its step's run does (the driver's pace)
        expect(page.get_by_test_id(f"status-{step}")).to_have_attribute(
            "data-status", "completed", timeout=240_000
        )
    expect(page.get_by_test_id("designer-run")).to_contain_text("completed")
    children = {c.tags["pipeline.step"]: c for c in ws.store.search_runs(parent_id=run_id)}
    assert sorted(children) == sorted(STEPS)
    expect(page.get_by_test_id("status-train")).to_contain_text(" s")  # its duration

    page.get_by_test_id("node-evaluate").get_by_text("Evaluate Model").click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.get_by_test_id("step-run-link")).to_have_attribute(
        "href", f"#/runs/{children['evaluate'].id}"
    )
    expect(panel.get_by_test_id("step-metrics")).to_contain_text("auc")
    for image in ("roc_curve", "precision_recall_curve", "confusion_matrix"):  # drawn from the run's images
        drawn = panel.get_by_test_id(f"image-{image}").locator("img")
        expect(drawn).to_be_visible()
        assert drawn.evaluate("img => img.naturalWidth") > 100
    results = panel.get_by_test_id("output-evaluation_results")
    results.get_by_label("evaluation_results table").select_option("confusion_matrix")
    expect(results.get_by_test_id("output-rows").locator("thead")).to_contain_text("actual")
    expect(results.get_by_test_id("output-rows").locator("tbody tr")).to_have_count(2)
    expect(results.get_by_test_id("output-stats")).to_contain_text("missing")

    page.get_by_test_id("node-score").get_by_text("Score Model").click()  # a table's first rows
    scored = panel.get_by_test_id("output-scored_dataset")
    expect(scored).to_contain_text("Scored Probabilities")
    test_rows = len(cancer) - int(len(cancer) * 0.7)
    expect(scored).to_contain_text(f"{test_rows} rows, 7 columns; the first 10 shown")
    expect(scored.get_by_test_id("output-rows").locator("tbody tr")).to_have_count(10)
    expect(panel.get_by_test_id("log")).to_contain_text("score-model: outputs scored_dataset")
