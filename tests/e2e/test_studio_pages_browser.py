"""The studio's registry, endpoint, compare, pipeline, sweep and AutoML pages, and what any run's
page shows of the tables, images and files it logged, in Debian's Chromium, on a team server's
workspace: what an owner sees and may change, and what a reader sees (no controls)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import trainyard as ty_sdk
from tests.e2e.test_cli import ty
from tests.e2e.test_studio_browser import _CANVAS_DRAWN, CHROMIUM, FLAGS, _need_browser
from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.serving.deployment import free_port
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentUpdate, EndpointUpdate
from trainyard.testing.studio_data import sample_experiment, sample_sweep
from trainyard.workspace import Workspace


@pytest.fixture
def team(tmp_path: Path) -> Iterator[tuple[str, Workspace, dict[str, str]]]:
    """A team server on a workspace of two runs, with an owner's and a reader's token."""
    _need_browser()
    ws = Workspace.create(tmp_path / "team")
    sample_experiment(ws, runs=2, points=30)
    app = create_app(ws)
    with ThreadedServer(app) as server:
        tokens = {role: token_for_app(app, role=role, user=role) for role in ("owner", "reader")}
        yield server.url, ws, tokens
    ws.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _signed_in(browser: Any, url: str, token: str, where: str) -> Any:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{url}/studio/{where}", wait_until="load")
    page.get_by_label("token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_be_visible()
    return page


def test_models_list_versions_and_an_owner_moves_an_alias(
    team: tuple[str, Workspace, dict[str, str]], browser: Any
) -> None:
    from playwright.sync_api import expect

    url, ws, tokens = team
    run_id = ws.store.search_runs(filter_string="attributes.run_name = 'run-1'")[0].id
    for _ in range(2):
        source = f"runs:/{run_id}/model"
        ws.store.create_model_version("churn", source=source, files=["MLmodel"], run_id=run_id)
    ws.store.set_model_alias("churn", "prod", 1)
    rows = {
        "content_hash": "0" * 64,
        "size_bytes": 1,
        "file_count": 1,
        "uri": "https://example.com/churn.csv",
    }
    ws.store.create_data_version("churn-rows", type="uri_file", **rows)
    ws.store.record_data_lineage(run_id, "churn-rows", 1, "read")  # what the model was trained on

    page = _signed_in(browser, url, tokens["owner"], "#/models")
    expect(page.get_by_test_id("models")).to_contain_text("churn")
    expect(page.get_by_test_id("models")).to_contain_text("prod → 1")
    page.get_by_role("link", name="churn").click()
    versions = page.get_by_test_id("model-version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("2")  # newest first
    expect(versions.first).to_contain_text("churn-rows:1")
    page.get_by_label("alias", exact=True).fill("prod")
    page.get_by_label("alias version").select_option("2")
    page.get_by_role("button", name="Move alias").click()
    expect(versions.first).to_contain_text("@prod")
    assert ws.store.get_registered_model("churn").aliases == {"prod": 2}
    versions.first.get_by_role("link", name=run_id[:8]).click()  # lineage: the version's run
    expect(page.get_by_test_id("params")).to_contain_text("depth")

    reader = _signed_in(browser, url, tokens["reader"], "#/models/churn")
    expect(reader.get_by_test_id("model-version")).to_have_count(2)
    expect(reader.get_by_test_id("move-alias")).to_have_count(0)  # a reader has no control


def test_an_owner_moves_an_endpoints_traffic_and_a_reader_sees_no_controls_or_keys(
    team: tuple[str, Workspace, dict[str, str]], browser: Any
) -> None:
    from playwright.sync_api import expect

    url, ws, tokens = team
    # the records only (no processes): what the page shows and writes is the store's
    ws.store.create_endpoint("iris-ep", free_port(), "the-primary-key", "the-secondary-key")
    for name in ("blue", "green"):
        ws.store.create_deployment("iris-ep", name, "iris", 1, 1)
        ws.store.update_deployment("iris-ep", name, DeploymentUpdate(status=DeploymentStatus.READY))
    ws.store.update_endpoint("iris-ep", EndpointUpdate(traffic={"blue": 100}))

    page = _signed_in(browser, url, tokens["owner"], "#/endpoints")
    expect(page.get_by_test_id("endpoints")).to_contain_text("blue 100%")
    page.get_by_role("link", name="iris-ep").click()
    expect(page.get_by_test_id("deployment")).to_have_count(2)
    expect(page.get_by_test_id("router")).to_contain_text("down")
    keys = page.get_by_test_id("keys")
    expect(keys).not_to_contain_text("the-primary-key")  # hidden until asked for
    keys.get_by_role("button", name="Show keys").click()
    expect(keys).to_contain_text("the-primary-key")
    page.get_by_label("traffic blue").fill("60")
    expect(page.get_by_test_id("traffic-form")).to_contain_text("adds up to 60%")
    expect(page.get_by_role("button", name="Set traffic")).to_be_disabled()
    page.get_by_label("traffic green").fill("40")
    page.get_by_role("button", name="Set traffic").click()
    expect(page.get_by_test_id("traffic")).to_have_text("blue 60% · green 40%")
    assert ws.store.get_endpoint("iris-ep").traffic == {"blue": 60, "green": 40}
    page.get_by_label("request body").fill('{"data": [[5.1, 3.5, 1.4, 0.2]]}')
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("did not answer")  # no router runs: it says so

    reader = _signed_in(browser, url, tokens["reader"], "#/endpoints/iris-ep")
    expect(reader.get_by_test_id("deployment")).to_have_count(2)
    expect(reader.get_by_text("hidden (only a contributor or an owner sees them)")).to_be_visible()
    expect(reader.get_by_test_id("traffic-form")).to_have_count(0)
    expect(reader.get_by_label("request body")).to_have_count(0)


def test_compare_draws_parallel_coordinates_a_scatter_and_smooths_the_charts(
    team: tuple[str, Workspace, dict[str, str]], browser: Any
) -> None:
    from playwright.sync_api import expect

    url, ws, tokens = team
    _, runs = sample_experiment(ws, name="four", runs=4, points=30)
    for run, opt in zip(runs, ("adam", "sgd", "adam", "sgd"), strict=True):
        ws.store.log_batch(run.id, [], params={"opt": opt})  # a categorical param
    page = _signed_in(browser, url, tokens["reader"], "#/compare/" + ",".join(r.id for r in runs))
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))

    parallel = page.get_by_test_id("parallel")
    expect(parallel.locator("polyline")).to_have_count(4)  # a line per run
    for axis in ("params.depth", "params.lr", "params.opt", "metrics.accuracy", "metrics.loss"):
        expect(parallel.locator("text.pc-name", has_text=axis)).to_have_count(1)
    scatter = page.get_by_test_id("scatter")
    expect(scatter.locator("circle")).to_have_count(4)
    drawn = scatter.get_by_role("img")
    expect(drawn).to_have_attribute("aria-label", "metrics.accuracy against params.depth")  # param, metric
    page.get_by_label("scatter x").select_option("params.opt")
    page.get_by_label("scatter y").select_option("metrics.loss")
    expect(drawn).to_have_attribute("aria-label", "metrics.loss against params.opt")
    expect(scatter.locator("circle")).to_have_count(4)
    expect(scatter.locator("text", has_text="sgd")).to_have_count(1)  # the category's tick
    expect(scatter.locator("circle title", has_text="run-3")).to_have_count(1)  # named on hover

    chart = page.get_by_test_id("compare-loss")
    expect(chart).not_to_contain_text("(raw)")
    page.get_by_label("smoothing").fill("0.9")
    expect(chart).to_contain_text("run-2 (raw)")  # the raw line, faint, under the smoothed one
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='compare-loss'] canvas")

    page.get_by_test_id("compare-table").get_by_role("link", name="run-0").click()
    run_chart = page.get_by_test_id("chart-loss")
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='chart-loss'] canvas")
    expect(run_chart).not_to_contain_text("loss (raw)")
    page.get_by_label("smoothing").fill("0.6")
    expect(page.get_by_test_id("smoothing-value").first).to_have_text("0.60")
    expect(run_chart).to_contain_text("loss (raw)")
    page.get_by_label("smoothing").fill("0.8")  # a new weight on the same plot
    expect(page.get_by_test_id("smoothing-value").first).to_have_text("0.80")
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='chart-loss'] canvas")
    assert errors == []  # nothing thrown in the page along the way


def test_a_runs_page_draws_its_tables_shows_its_images_and_previews_csv_parquet_and_mlmodel(
    team: tuple[str, Workspace, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from playwright.sync_api import expect

    url, ws, tokens = team
    run = ty_sdk.Experiment(ws, "logged").start_logging(display_name="with-tables")
    run.log_table(
        "curve", {"epoch": [0, 1, 2, 3], "loss": [0.9, 0.5, 0.3, 0.25], "acc": [0.5, 0.7, 0.8, 0.85]}
    )
    for name, f1 in (("setosa", 1.0), ("versicolor", 0.8)):
        run.log_row("per_class", cls=name, f1=f1)
    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([0, 1], [1, 0])
    run.log_image("the-plot", plot=figure)
    (tmp_path / "rows.csv").write_text('city,note\n"Paris, FR","say ""hi"""\nOslo,cold\n')
    pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "c"]}).to_parquet(tmp_path / "rows.parquet")
    signature = {"inputs": '[{"name": "x", "type": "double"}]', "outputs": '[{"type": "long"}]'}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({"flavors": {"sklearn": {}}, "signature": signature}))
    for name in ("rows.csv", "rows.parquet", "MLmodel"):
        run.upload_file(f"outputs/{name}", tmp_path / name)
    run.complete()

    page = _signed_in(browser, url, tokens["reader"], f"#/runs/{run.id}")
    curve = page.get_by_test_id("table-curve")
    expect(curve.locator("table.grid tbody tr")).to_have_count(4)
    expect(curve.locator("table.grid thead")).to_contain_text("epoch")
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='table-chart-curve'] canvas")
    expect(page.get_by_test_id("table-chart-curve")).to_contain_text("loss")  # the legend
    expect(page.get_by_test_id("table-per_class")).to_contain_text("versicolor")
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='table-chart-per_class'] canvas")  # bars
    images = page.get_by_test_id("logged-images")
    expect(images).to_contain_text("the-plot")
    picture = images.get_by_role("img", name="the-plot")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") > 0  # a decoded PNG

    preview = page.get_by_test_id("preview")
    page.get_by_role("button", name="outputs/rows.csv", exact=True).click()
    expect(preview.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(2)
    expect(preview).to_contain_text("Paris, FR")
    expect(preview).to_contain_text('say "hi"')
    page.get_by_role("button", name="outputs/rows.parquet", exact=True).click()
    expect(preview.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(3)
    expect(preview).to_contain_text("the first 3 of 3 rows")
    expect(preview.get_by_test_id("preview-table").locator("thead")).to_contain_text("label")
    page.get_by_role("button", name="outputs/MLmodel", exact=True).click()
    expect(preview).to_contain_text("flavors: sklearn")
    expect(preview.get_by_test_id("signature-inputs")).to_contain_text("double")
    expect(preview.get_by_test_id("signature-outputs")).to_contain_text("long")


def test_a_pipeline_runs_page_draws_its_steps_live_and_opens_a_steps_run(
    tmp_path: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    go = tmp_path / "go"  # train runs until the test lets it finish
    (tmp_path / "wait.py").write_text(
        f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.2)\n"
    )

    def step(command: str, **reads: str) -> dict[str, Any]:
        """A step that reads the outputs ``reads`` names and writes its own ``out``."""
        inputs = {port: f"${{{{parent.jobs.{source}.outputs.out}}}}" for port, source in reads.items()}
        refs = " ".join(f"${{{{inputs.{port}}}}}" for port in reads)
        return {
            "command": f"{command} {refs} ${{{{outputs.out}}}}",
            "inputs": inputs,
            "outputs": {"out": {"type": "uri_folder"}},
        }

    spec = {
        "type": "pipeline",
        "jobs": {
            "prep": step("python -c pass"),
            "train": step(f"python {tmp_path / 'wait.py'}", d="prep"),
            "check": step("python -c pass", d="prep"),
            "report": step("python -c pass", a="train", b="check"),
        },
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    ty(tmp_path, "init")
    out = ty(tmp_path, "pipeline", "submit", "-f", "p.yml").stdout
    run_id = re.search(r"pipeline run (\w+)", out).group(1)  # type: ignore[union-attr]
    ws = Workspace.from_config(tmp_path)
    app = create_app(ws)
    try:
        with ThreadedServer(app) as server:
            page = _signed_in(browser, server.url, token_for_app(app, role="reader"), f"#/runs/{run_id}")
            steps = page.get_by_test_id("dag-step")
            expect(steps).to_have_count(4)
            expect(page.get_by_test_id("pipeline-dag").locator("path.dag-edge")).to_have_count(4)
            prep, train, report = (page.get_by_label(f"step {name}") for name in ("prep", "train", "report"))
            expect(prep.get_by_test_id("dag-step")).to_have_attribute(
                "data-status", "completed", timeout=60_000
            )
            expect(train.get_by_test_id("dag-step")).to_have_attribute(
                "data-status", "running", timeout=60_000
            )
            expect(report.get_by_test_id("dag-step")).to_have_attribute("data-status", "not started")
            go.touch()  # train ends; the page follows without a reload
            expect(report.get_by_test_id("dag-step")).to_have_attribute(
                "data-status", "completed", timeout=60_000
            )
            train.click()
            expect(page.get_by_test_id("tags")).to_contain_text("pipeline.step")
            expect(page.locator("h1")).to_contain_text("train")
    finally:
        go.touch()  # nothing left waiting if an assertion failed
        ws.close()


def test_a_sweep_runs_page_ranks_its_trials_and_marks_the_best_and_the_stopped(
    team: tuple[str, Workspace, dict[str, str]], browser: Any
) -> None:
    from playwright.sync_api import expect

    url, ws, tokens = team
    sweep = sample_sweep(ws, ws.store.search_runs()[0].experiment_id)  # trial-1 stopped, trial-2 best
    page = _signed_in(browser, url, tokens["reader"], f"#/runs/{sweep.id}")
    rows = page.get_by_test_id("trial-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("trial-2")  # the smallest loss first
    expect(rows.nth(0)).to_contain_text("best")
    expect(rows.nth(1)).to_contain_text("trial-0")
    expect(rows.nth(2)).to_contain_text("stopped early")
    expect(page.get_by_test_id("leaderboard").locator("thead")).to_contain_text("lr")
    chart = page.get_by_test_id("compare-loss")
    expect(chart).to_contain_text("trial-1 (stopped early)")  # its dashed line's legend
    page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='compare-loss'] canvas")
    lines = page.get_by_test_id("parallel").locator("polyline")  # lr against loss, a line per trial
    expect(lines).to_have_count(3)
    expect(lines.and_(page.locator(".pc-best"))).to_have_count(1)
    expect(lines.and_(page.locator(".pc-stopped"))).to_have_count(1)
    rows.nth(0).get_by_role("link", name="trial-2").click()
    expect(page.locator("h1")).to_contain_text("trial-2")


def test_an_automl_runs_page_ranks_its_trials_and_shows_guardrails_importance_and_images(
    tmp_path: Path, browser: Any
) -> None:
    """A real AutoML run on iris, in a short budget: its page as the driver left it."""
    from playwright.sync_api import expect
    from sklearn.datasets import load_iris

    ws = Workspace.create(tmp_path / "ws")
    cfg = ty_sdk.AutoMLConfig(
        task="classification",
        training_data=load_iris(as_frame=True).frame,
        label_column_name="target",
        primary_metric="accuracy",
        n_cross_validations=2,
        experiment_timeout_minutes=0.3,
        max_concurrent_iterations=2,
    )
    run = ty_sdk.Experiment(ws, "automl").submit(cfg)
    run.wait_for_completion(timeout_seconds=120)
    best = run.refresh().tags["automl.best_run_id"]
    app = create_app(ws)
    try:
        with ThreadedServer(app) as server:
            page = _signed_in(browser, server.url, token_for_app(app, role="reader"), f"#/runs/{run.id}")
            rows = page.get_by_test_id("trial-row")
            expect(rows.first).to_be_visible()
            expect(page.get_by_test_id("leaderboard").locator("thead")).to_contain_text("accuracy")
            best_row = page.locator("tr.best")
            expect(best_row).to_have_count(1)
            expect(best_row).to_contain_text("best")
            expect(best_row.get_by_role("link")).to_have_attribute("href", re.compile(f"{best}$"))
            expect(rows.first.locator("td").first).to_have_text("1")
            expect(page.get_by_test_id("guardrails")).to_contain_text("class balancing")
            bars = page.get_by_test_id("feature-importance").locator("rect")
            expect(bars).to_have_count(4)  # iris's four features
            expect(page.get_by_test_id("table-leaderboard")).to_be_visible()  # with every run's tables
            expect(page.get_by_test_id("table-data_guardrails")).to_have_count(0)  # the board's own
            expect(page.get_by_test_id("logged-images").locator("img")).to_have_count(1)  # the plot
    finally:
        ws.close()


def test_an_owner_creates_a_training_runs_inference_pipeline_and_a_reader_sees_no_button(
    tmp_path: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    from tests.integration.test_inference_pipeline import train

    ty(tmp_path, "init")
    ws = Workspace.from_config(tmp_path)
    run = train(ws, tmp_path)
    app = create_app(ws)
    try:
        with ThreadedServer(app) as server:
            reader = _signed_in(
                browser, server.url, token_for_app(app, role="reader", user="rd"), f"#/runs/{run.id}"
            )
            expect(reader.get_by_test_id("dag-step")).to_have_count(8)
            expect(reader.get_by_test_id("create-inference")).to_have_count(0)
            page = _signed_in(
                browser, server.url, token_for_app(app, role="owner", user="ow"), f"#/runs/{run.id}"
            )
            page.get_by_label("inference model name").fill("designer-rt")
            page.get_by_role("button", name="Create inference pipeline").click()
            made = page.get_by_test_id("create-inference")
            expect(made).to_contain_text("Registered designer-rt:1", timeout=30_000)
            expect(made).to_contain_text("trainyard deployment create blue -e ENDPOINT -m designer-rt:1")
        assert ty_sdk.Model(ws, "designer-rt:1").lineage()["run_id"] == run.id
    finally:
        ws.close()
