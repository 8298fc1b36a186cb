"""``trainyard experiment rename``, ``delete`` and ``restore`` on a workspace's store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trainyard.cli.main import app
from trainyard.errors import AlreadyExistsError, NotFoundError
from trainyard.workspace import Workspace


def _listed(runner: CliRunner, *flags: str) -> list[tuple[str, bool]]:
    result = runner.invoke(app, ["experiment", "list", "-o", "json", *flags])
    assert result.exit_code == 0, result.output
    return [(e["name"], e["deleted"]) for e in json.loads(result.stdout)]


def test_rename_delete_and_restore(ws: Workspace) -> None:
    exp = ws.store.create_experiment("first")
    ws.store.create_experiment("second")
    run = ws.store.create_run(exp.id)
    runner = CliRunner()
    assert runner.invoke(app, ["experiment", "rename", "first", "renamed"]).exit_code == 0
    assert runner.invoke(app, ["experiment", "delete", "renamed"]).exit_code == 0
    assert _listed(runner) == [("second", False)]
    assert _listed(runner, "--deleted") == [("renamed", True), ("second", False)]
    assert ws.store.get_run(run.id).experiment_id == exp.id
    assert runner.invoke(app, ["experiment", "restore", "renamed"]).exit_code == 0
    assert _listed(runner) == [("renamed", False), ("second", False)]


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["experiment", "delete", "nope"], NotFoundError),
        (["experiment", "rename", "one", "two"], AlreadyExistsError),
    ],
)
def test_mistakes_are_trainyard_errors(ws: Workspace, argv: list[str], error: type[Exception]) -> None:
    ws.store.create_experiment("one")
    ws.store.create_experiment("two")
    result = CliRunner().invoke(app, argv)
    assert isinstance(result.exception, error), result.output


def test_list_counts_every_run_and_shows_the_newest(ws: Workspace) -> None:
    exp = ws.store.create_experiment("counted")
    parent = ws.store.create_run(exp.id)
    child = ws.store.create_run(exp.id, parent_id=parent.id)
    result = CliRunner().invoke(app, ["experiment", "list", "-o", "json"])
    (listed,) = json.loads(result.stdout)
    assert (listed["runs"], listed["latest_run"]) == (2, child.created_at)
