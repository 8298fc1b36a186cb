"""``trainyard experiment list``, ``rename``, ``delete`` and ``restore``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from trainyard.cli.output import Format, console, fmt_time, print_json, table
from trainyard.deletion import RunView

if TYPE_CHECKING:
    from trainyard.store.records import Experiment

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("list")
def list_experiments(
    output: Format = typer.Option(Format.table, "--output", "-o"),
    deleted: bool = typer.Option(False, "--deleted", help="Include deleted experiments."),
) -> None:
    """Experiments with their run counts."""
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    rows: list[dict[str, Any]] = []
    for exp in ws.store.list_experiments(include_deleted=deleted):
        newest = ws.store.search_runs([exp.id], max_results=1)  # newest first: one row, not every run
        latest = newest[0].created_at if newest else None
        rows.append(
            {
                "id": exp.id,
                "name": exp.name,
                "created": exp.created_at,
                "runs": ws.store.count_runs(exp.id, view=RunView.ACTIVE),
                "latest_run": latest,
                "deleted": exp.deleted,
            }
        )
    if output == Format.json:
        print_json(rows)
        return
    console.print(
        table(
            None,
            ["name", "runs", "latest run", "created", "id"],
            [
                [r["name"], r["runs"], fmt_time(r["latest_run"]), fmt_time(r["created"]), r["id"]]
                for r in rows
            ],
        )
    )


def _change(name: str, *, new_name: str | None = None, deleted: bool | None = None) -> Experiment:
    """Rename, delete or restore the experiment called ``name`` (deleted ones included)."""
    from trainyard.errors import NotFoundError
    from trainyard.workspace import Workspace

    store = Workspace.from_config().store
    found = store.get_experiment_by_name(name)
    if found is None:
        raise NotFoundError(f"no experiment named {name!r}; `trainyard experiment list --deleted` shows them")
    return store.update_experiment(found.id, name=new_name, deleted=deleted)


@app.command("rename")
def rename_experiment(name: str, new_name: str) -> None:
    """Give an experiment a new name; its runs stay in it."""
    console.print(f"renamed {name!r} to {_change(name, new_name=new_name).name!r}")


@app.command("delete")
def delete_experiment(name: str) -> None:
    """Hide an experiment from lists; its runs and files are kept and `restore` brings it back."""
    _change(name, deleted=True)
    console.print(f"deleted {name!r} (`trainyard experiment restore {name}` brings it back)")


@app.command("restore")
def restore_experiment(name: str) -> None:
    """Bring back a deleted experiment."""
    _change(name, deleted=False)
    console.print(f"restored {name!r}")
