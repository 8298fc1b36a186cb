"""Entry point: ``trainyard <noun> <verb>``; user mistakes print one line, never a traceback."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer
from rich.markup import escape

from trainyard.cli import (
    agent,
    automl,
    batch,
    components,
    compute,
    data,
    datastores,
    endpoints,
    envs,
    experiments,
    jobs,
    many_models,
    models,
    pipelines,
    retrain,
    runs,
    schedules,
    server,
    studio,
    sweeps,
    users,
)
from trainyard.cli.output import console, err_console
from trainyard.errors import TrainyardError, TrainyardWarning

app = typer.Typer(
    help="trainyard: tracked runs, script jobs and environments on your own machines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(jobs.app, name="job")
app.add_typer(runs.app, name="run")
app.add_typer(experiments.app, name="experiment")
app.add_typer(envs.app, name="env")
app.add_typer(sweeps.app, name="sweep")
app.add_typer(automl.app, name="automl")
app.add_typer(many_models.app, name="many-models")
app.add_typer(models.app, name="model")
app.add_typer(data.app, name="data")
app.add_typer(datastores.app, name="datastore")
app.add_typer(batch.app, name="batch")
app.add_typer(components.app, name="component")
app.add_typer(pipelines.app, name="pipeline")
app.add_typer(schedules.app, name="schedule")
app.command("scheduler")(schedules.scheduler)
app.add_typer(endpoints.endpoint_app, name="endpoint")
app.add_typer(endpoints.deployment_app, name="deployment")
app.command("retrain")(retrain.retrain)
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.command("login")(users.login)
app.command("agent")(agent.agent)
app.add_typer(server.server_app, name="server")
app.command("studio")(studio.studio)
db = typer.Typer(help="The workspace's metadata store.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(compute.app, name="compute")


@app.command()
def init(
    path: Path = typer.Argument(Path("."), help="Folder to create .trainyard in."),
    store: str = typer.Option(None, help="Metadata store URI, e.g. postgresql://host/db (default: SQLite)."),
    artifacts: str = typer.Option(
        None, help="Artifact store folder or fsspec URL (default: .trainyard/artifacts)."
    ),
) -> None:
    """Create a workspace (SQLite + local files unless told otherwise)."""
    from trainyard.workspace import Workspace

    ws = Workspace.create(path, store=store, artifacts=artifacts)
    console.print(f"workspace ready at [bold]{ws.root}[/] (store: {ws.config.store})")


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store to this trainyard's schema (back it up first)."""
    from trainyard.store.upgrade import HEAD, upgrade_schema
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    before = upgrade_schema(ws._resolve(ws.config.store))
    console.print(f"store schema: {before or 'empty'} -> {HEAD}")


@db.command("current")
def db_current() -> None:
    """Print the store's schema revision."""
    from trainyard.store.upgrade import HEAD, schema_revision
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    rev = schema_revision(ws._resolve(ws.config.store))
    console.print(f"{rev or 'empty'} (this trainyard needs {HEAD})")


# What the `ml` extra installs: AutoML and the component catalogue import them; a bare install lacks them.
ML_LIBRARIES = {"sklearn", "lightgbm", "xgboost", "skops", "vowpalwabbit", "imblearn", "onnx", "onnxruntime"}


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """Trainyard's warnings as one line each, like its errors; others as Python shows them."""
    if issubclass(category, TrainyardWarning):
        err_console.print(f"[yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    else:
        _python_shows(message, category, *args, **kwargs)  # type: ignore[arg-type]


_python_shows = warnings.showwarning


def main() -> None:
    warnings.showwarning = _show_warning
    try:
        app()
    except TrainyardError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        library = (exc.name or "").split(".")[0]
        if library not in ML_LIBRARIES:
            raise
        err_console.print(
            f"[red]error:[/] this command needs {library}, one of the model libraries: "
            + escape("pip install 'trainyard[ml]'"),
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
