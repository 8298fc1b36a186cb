"""``trainyard run delete`` and ``restore`` (several runs, by id or prefix) and ``run list --deleted``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import trainyard as ty
from trainyard.cli.main import app
from trainyard.deletion import RunView, is_deleted
from trainyard.errors import NotFoundError
from trainyard.workspace import Workspace


def _listed(runner: CliRunner, *flags: str) -> list[str]:
    result = runner.invoke(app, ["run", "list", "-o", "json", *flags])
    assert result.exit_code == 0, result.output
    return sorted(r["name"] for r in json.loads(result.stdout))


def test_delete_and_restore_several_runs(ws: Workspace) -> None:
    exp = ws.store.create_experiment("cli")
    a, b, c = (ws.store.create_run(exp.id, name=n) for n in "abc")
    runner = CliRunner()
    deleted = runner.invoke(app, ["run", "delete", a.id[:12], b.id])
    assert deleted.exit_code == 0 and "deleted 2 run(s)" in deleted.output, deleted.output
    assert _listed(runner) == ["c"] and _listed(runner, "--deleted") == ["a", "b"]
    assert runner.invoke(app, ["run", "restore", a.id]).exit_code == 0
    assert _listed(runner) == ["a", "c"] and _listed(runner, "--deleted") == ["b"]
    assert not is_deleted(ws.store.get_run(c.id).tags)


def test_an_unknown_run_is_named_and_nothing_changes(ws: Workspace) -> None:
    exp = ws.store.create_experiment("cli")
    run = ws.store.create_run(exp.id, name="kept")
    for argv in (["run", "delete", run.id, "nosuchrun"], ["run", "delete", run.id, "f" * 32]):
        result = CliRunner().invoke(app, argv)
        assert isinstance(result.exception, NotFoundError), result.output
        assert argv[-1] in str(result.exception)
    assert not is_deleted(ws.store.get_run(run.id).tags)


def test_an_experiments_runs_and_count_leave_deleted_runs_out(ws: Workspace) -> None:
    """``Experiment.get_runs`` and ``trainyard experiment list`` show what MLflow's ACTIVE_ONLY does."""
    exp = ty.Experiment(ws, "sdk")
    a, b = (ws.store.create_run(exp.id, name=n) for n in "ab")
    ws.store.delete_runs([a.id])
    assert [r.id for r in exp.get_runs()] == [b.id]
    assert [r.id for r in exp.get_runs(view=RunView.DELETED)] == [a.id]
    assert sorted(r.id for r in exp.get_runs(view=RunView.ALL)) == sorted([a.id, b.id])
    listed = CliRunner().invoke(app, ["experiment", "list", "-o", "json"])
    assert listed.exit_code == 0, listed.output
    assert {e["name"]: e["runs"] for e in json.loads(listed.stdout)}["sdk"] == 1
