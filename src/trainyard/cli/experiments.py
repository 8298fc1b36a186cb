"""``trainyard experiment list``."""

from __future__ import annotations

import typer

from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("list")
def list_experiments(output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """Experiments with their run counts."""
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    rows = []
    for exp in ws.store.list_experiments():
        runs = ws.store.search_runs([exp.id])
        latest = runs[0].created_at if runs else None
        rows.append(
            {
                "id": exp.id,
                "name": exp.name,
                "created": exp.created_at,
                "runs": len(runs),
                "latest_run": latest,
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
