"""``trainyard studio`` in Debian's Chromium, driven by Playwright: the URL it prints signs the
browser in, the runs table lists, filters and sorts on the server, two runs are compared, a
run's chart is drawn on a canvas, a running run's log is tailed, and an artifact downloads. On a
team server the page asks for a token, refuses a wrong one, and signs out; there an owner tags two
selected runs, deletes one and restores it, and a reader gets no such controls.

Chromium is the system's (``apt-get install chromium``, done by ``make dev`` and ``.ci/run``),
never a downloaded build. Without it the test is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.server_helpers import token_for_app
from trainyard.artifacts.paths import run_key
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.status import RunStatus
from trainyard.testing.studio_data import sample_experiment
from trainyard.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
# as root in a closed network: no sandbox, and none of Chromium's own connections
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


def _named(ws: Workspace, name: str) -> str:
    return ws.store.search_runs(filter_string=f"attributes.run_name = '{name}'")[0].id


def _need_browser() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem and os.environ.get("CI"):
        pytest.fail(f"{problem}; CI must run the browser tests", pytrace=False)
    if problem:
        pytest.skip(problem)


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[str, Workspace]]:
    """``trainyard studio --no-browser`` on a workspace of five runs (the last one running)."""
    ws = Workspace.create(tmp_path / "ws")
    sample_experiment(ws, runs=5, points=300, running=1)
    env = {k: v for k, v in os.environ.items() if k != "TRAINYARD_WORKSPACE"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "studio", "--no-browser", "--workspace", str(tmp_path / "ws")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError("trainyard studio exited before printing its URL")
            found = re.search(r"http://127\.0\.0\.1:\d+/studio/\?token=\S+", line)
            url = found.group(0) if found else None
        assert url is not None, "trainyard studio printed no URL"
        yield url, ws
    finally:
        proc.terminate()
        proc.wait(20)
        ws.close()


def test_runs_table_chart_log_and_artifacts_in_chromium(studio: tuple[str, Workspace]) -> None:
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    url, ws = studio
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(url, wait_until="load")  # the server answers the URL token with a cookie
            assert "token=" not in page.url  # and takes the token out of the address bar
            page.get_by_role("link", name="studio-sample").click()

            rows = page.get_by_test_id("run-row")
            expect(rows).to_have_count(5)
            header = page.get_by_test_id("runs").locator("thead")
            expect(header).to_contain_text("loss")
            expect(header).to_contain_text("lr")

            page.get_by_text("Columns").click()  # hide a metric, show a tag: the browser keeps the choice
            page.get_by_label("column metrics.accuracy").uncheck()
            page.get_by_label("column tags.team").check()
            expect(header).not_to_contain_text("accuracy")
            expect(header).to_contain_text("team")

            header.get_by_title("sort by metrics.loss").click()  # server-side sort, largest first
            expect(rows.first).to_contain_text("run-0")
            header.get_by_title("sort by metrics.loss").click()  # then smallest first
            expect(rows.first).to_contain_text("run-4")

            page.get_by_label("filter").fill("params.depth = '2'")
            page.get_by_role("button", name="Filter").click()
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("run-2")
            page.get_by_label("filter").fill("metrics.nope >")
            page.get_by_role("button", name="Filter").click()
            expect(page.get_by_role("alert")).to_be_visible()  # the server's message for a bad filter
            page.get_by_role("button", name="Clear").click()
            expect(rows).to_have_count(5)

            going = rows.filter(has_text="run-4")
            expect(going).to_contain_text("running")
            ws.store.set_status(_named(ws, "run-4"), RunStatus.COMPLETED)  # the row follows, no reload
            expect(going).to_contain_text("completed", timeout=15_000)

            page.get_by_label("select run-0").check()
            page.get_by_label("select run-3").check()
            page.get_by_role("link", name="Compare 2").click()
            table = page.get_by_test_id("compare-table")
            expect(table.locator("tr.differs").first).to_contain_text("params.")  # what differs comes first
            expect(table.locator("thead")).to_contain_text("run-3")
            page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='compare-loss'] canvas")

            table.get_by_role("link", name="run-0").click()
            canvas = page.get_by_test_id("chart-loss").locator("canvas")
            expect(canvas).to_be_visible()
            expect(page.get_by_test_id("chart-loss")).to_contain_text("points")
            page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='chart-loss'] canvas")
            expect(page.get_by_test_id("log")).to_contain_text("run 0: starting")
            expect(page.get_by_test_id("params")).to_contain_text("depth")
            page.get_by_role("button", name="outputs/model.txt", exact=True).click()
            expect(page.get_by_test_id("preview")).to_contain_text("model of run 0")
            with page.expect_download() as download:
                page.get_by_role("button", name="download outputs/model.txt").click()
            assert Path(download.value.path()).read_text() == "model of run 0\n"

            running = ws.store.create_run(ws.store.search_runs()[0].experiment_id, status=RunStatus.RUNNING)
            ws.artifacts.put_bytes(run_key(running.id, "logs/std_log.txt"), b"run 4: step 1\n")
            page.goto(url.split("?")[0] + f"#/runs/{running.id}")
            expect(page.get_by_test_id("log")).to_contain_text("run 4: step 1")
            ws.artifacts.append(run_key(running.id, "logs/std_log.txt"), b"run 4: a new line\n")
            expect(page.get_by_test_id("log")).to_contain_text("run 4: a new line", timeout=15_000)
        finally:
            browser.close()


def test_a_team_servers_studio_signs_in_with_a_token_and_only_writers_change_runs(tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    ws = Workspace.create(tmp_path / "team")
    _, made = sample_experiment(ws, runs=2, points=30)
    ws.store.log_batch(made[0].id, [], tags={"mlflow.user": "ada"})  # what the server records for its caller
    app = create_app(ws)
    with ThreadedServer(app) as server, sync_playwright() as p:
        token = token_for_app(app, role="reader", user="rita")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/", wait_until="load")  # "/" leads to the studio
            page.get_by_label("token").fill("ty_" + "0" * 32 + "_" + "x" * 30)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("refused")
            page.get_by_label("token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("who")).to_have_text("rita (reader)")
            page.get_by_role("link", name="studio-sample").click()
            expect(page.get_by_test_id("run-row")).to_have_count(2)
            expect(page.get_by_test_id("runs").locator("thead")).to_contain_text("User")
            expect(page.get_by_test_id("run-row").filter(has_text="run-0")).to_contain_text("ada")
            page.get_by_label("select run-0").check()  # a reader selects to compare, and that is all
            expect(page.get_by_label("select run-0")).to_be_checked()
            expect(page.get_by_test_id("bulk-actions")).to_have_count(0)
            page.get_by_role("link", name="run-1").click()
            page.get_by_label("x axis").select_option("time")
            page.get_by_label("log scale").check()
            page.wait_for_function(_CANVAS_DRAWN, arg="[data-testid='chart-accuracy'] canvas")
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_label("token")).to_be_visible()
            _owner_tags_and_deletes(page, token_for_app(app, role="owner", user="olga"), ws)
        finally:
            browser.close()
    ws.close()


def _owner_tags_and_deletes(page: Any, token: str, ws: Workspace) -> None:
    """Signed in as an owner: tag both runs, delete one (after the confirm), find it among the deleted
    runs and restore it; the store holds what the page did."""
    from playwright.sync_api import expect

    page.get_by_label("token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_have_text("olga (owner)")
    page.get_by_role("link", name="studio-sample").click()
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(2)
    bar = page.get_by_test_id("bulk-actions")
    expect(bar).to_have_count(0)  # nothing selected, no toolbar
    page.get_by_label("select run-0").check()
    page.get_by_label("select run-1").check()
    bar.get_by_role("button", name="Tag…").click()
    bar.get_by_label("tag").fill("stage=review")
    bar.get_by_role("button", name="Set tag").click()
    expect(bar).to_have_count(0)  # done: the selection is cleared and the table read again
    assert {ws.store.get_run(_named(ws, n)).tags.get("stage") for n in ("run-0", "run-1")} == {"review"}

    page.get_by_label("select run-0").check()
    bar.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("confirm-delete")).to_contain_text("Delete 1 run?")
    bar.get_by_role("button", name="Yes, delete").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("run-1")
    page.get_by_label("Show deleted").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("run-0")
    assert ws.store.get_run(_named(ws, "run-0")).tags["stage"] == "review"  # deleting lost nothing
    page.get_by_label("select run-0").check()
    bar.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("No deleted runs.")).to_be_visible()
    page.get_by_label("Show deleted").uncheck()
    expect(rows).to_have_count(2)


# true once the canvas holds a drawn pixel (uPlot draws the series onto it)
_CANVAS_DRAWN = """selector => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width) return false;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}"""
