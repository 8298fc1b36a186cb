"""The studio's registry, endpoint, pipeline and sweep pages in Debian's Chromium, on a team
server's workspace: what an owner sees and may change, and what a reader sees (no controls)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_studio_browser import CHROMIUM, FLAGS, _need_browser
from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.serving.deployment import free_port
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentUpdate, EndpointUpdate
from trainyard.testing.studio_data import sample_experiment
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

    page = _signed_in(browser, url, tokens["owner"], "#/models")
    expect(page.get_by_test_id("models")).to_contain_text("churn")
    expect(page.get_by_test_id("models")).to_contain_text("prod → 1")
    page.get_by_role("link", name="churn").click()
    versions = page.get_by_test_id("model-version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("2")  # newest first
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
