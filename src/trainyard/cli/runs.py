"""``trainyard run list|show|compare|logs|metrics|cancel|download|delete|restore``."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

from trainyard.cli.output import (
    Format,
    console,
    fmt_duration,
    fmt_number,
    fmt_time,
    print_json,
    sparkline,
    status_text,
    table,
)
from trainyard.deletion import RunView
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.status import RunStatus, parse_status

app = typer.Typer(help="Tracked runs.", no_args_is_help=True)
OutputOpt = typer.Option(Format.table, "--output", "-o", help="table or json.")


def _ws():  # noqa: ANN202
    from trainyard.workspace import Workspace

    return Workspace.from_config()


def _run(run_id: str):  # noqa: ANN202
    """The run a user named by its full id or the 12-character prefix ``run list`` prints."""
    from trainyard.sdk.run import Run

    ws = _ws()
    full = resolve_run_id(ws, run_id)
    return Run(ws, full, ws.store.get_run(full))


def run_summary(info, experiment: str, files: list[str]) -> dict:  # noqa: ANN001
    return {
        "id": info.id,
        "name": info.name,
        "experiment": experiment,
        "status": info.status.value,
        "created": info.created_at,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration": info.duration,
        "compute": info.compute,
        "environment": info.environment,
        "attempt": info.attempt,
        "exit_code": info.exit_code,
        "error": info.error,
        "parent_id": info.parent_id,
        "params": info.params,
        "tags": info.tags,
        "metrics": info.metrics,
        "artifacts": files,
    }


def print_summary(summary: dict, history: dict[str, list[float]] | None = None) -> None:
    """The run as a two-column table; metric series get a sparkline of their values."""
    history = history or {}
    rows = [
        ["run", f"{summary['id']}  ({summary['name']})"],
        ["experiment", summary["experiment"]],
        ["status", status_text(summary["status"])],
        ["duration", fmt_duration(summary["duration"])],
        ["compute", summary["compute"] or "-"],
    ]
    if summary["error"]:
        rows.append(["error", f"[red]{summary['error']}[/]"])
    rows += [[f"tag {escape(k)}", escape(v)] for k, v in sorted(summary["tags"].items())]
    rows += [[f"param {escape(k)}", escape(v)] for k, v in sorted(summary["params"].items())]
    for key, value in sorted(summary["metrics"].items()):
        series = history.get(key, [])
        shape = f"  [cyan]{sparkline(series)}[/] ({len(series)} values)" if len(series) > 1 else ""
        rows.append([f"metric {key}", fmt_number(value) + shape])
    rows += [["artifact", name] for name in summary["artifacts"]]
    console.print(table("Run summary", ["", ""], rows))
    if summary.get("children"):
        print_children(summary["children"], summary.get("primary_metric"))


# The tag that names the metric a parent ranks its children by (sweeps and AutoML set one).
PRIMARY_METRIC_TAGS = ("sweep.primary_metric", "automl.primary_metric")
SHOWN_CHILDREN = 50


def primary_metric(tags: dict[str, str]) -> str | None:
    return next((tags[t] for t in PRIMARY_METRIC_TAGS if t in tags), None)


def children_summary(run, metric: str | None) -> list[dict]:  # noqa: ANN001
    """The run's child runs, oldest first, with the parent's primary metric when it has one:
    one store query, since every run comes back with its latest metrics."""
    children = reversed(run.workspace.store.search_runs(parent_id=run.id))
    return [
        {"id": c.id, "name": c.name, "status": c.status.value}
        | ({"primary_metric": c.metrics.get(metric)} if metric else {})
        for c in children
    ]


def print_children(children: list[dict], metric: str | None) -> None:
    def value(child: dict) -> str:
        return "-" if child["primary_metric"] is None else fmt_number(child["primary_metric"])

    rows = [
        [c["id"][:12], c["name"], status_text(c["status"]), *([value(c)] if metric else [])]
        for c in children[:SHOWN_CHILDREN]
    ]
    title = f"Child runs ({len(children)})"
    console.print(table(title, ["id", "name", "status", *([metric] if metric else [])], rows))
    if len(children) > SHOWN_CHILDREN:
        console.print(f"… and {len(children) - SHOWN_CHILDREN} more (`-o json` lists every child)")


def metric_series(run) -> dict[str, list[float]]:  # noqa: ANN001
    series: dict[str, list[float]] = {}
    for m in run.workspace.store.get_metric_history(run.id):
        series.setdefault(m.key, []).append(m.value)
    return series


@app.command("list")
def list_runs(
    experiment: str = typer.Option(None, "--experiment", "-e", help="Only this experiment."),
    status: str = typer.Option(None, help="Only runs in this status."),
    max_results: int = typer.Option(50, "--max", help="At most this many runs, newest first."),
    deleted: bool = typer.Option(
        False, "--deleted", help="Only deleted runs (`run restore` brings them back)."
    ),
    output: Format = OutputOpt,
) -> None:
    """Runs, newest first, with their latest metrics; deleted runs only with ``--deleted``."""
    from trainyard.compute.reaper import reap

    ws = _ws()
    reap(ws)
    experiments = {e.id: e.name for e in ws.store.list_experiments(include_deleted=True)}
    ids = None
    if experiment:
        found = ws.store.get_experiment_by_name(experiment)
        if found is None:
            raise InvalidInputError(
                f"no experiment named {experiment!r}; `trainyard experiment list` shows them"
            )
        ids = [found.id]
    statuses = [parse_status(status)] if status else None
    view = RunView.DELETED if deleted else RunView.ACTIVE
    runs = ws.store.search_runs(ids, statuses=statuses, max_results=max_results, view=view)
    if output == Format.json:
        print_json([run_summary(r, experiments[r.experiment_id], []) | {"artifacts": None} for r in runs])
        return
    metric_keys = sorted({k for r in runs for k in r.metrics})[:6]
    rows = [
        [
            r.id[:12],
            r.name,
            experiments[r.experiment_id],
            status_text(r.status.value),
            fmt_time(r.created_at),
            fmt_duration(r.duration),
            *[fmt_number(r.metrics[k]) if k in r.metrics else "" for k in metric_keys],
        ]
        for r in runs
    ]
    console.print(
        table(None, ["id", "name", "experiment", "status", "created", "duration", *metric_keys], rows)
    )


def resolve_run_id(ws, run_id: str) -> str:  # noqa: ANN001
    """Accept the 12-character id prefix that ``run list`` prints."""
    if len(run_id) == 32:
        return run_id
    matches = ws.store.find_run_ids(run_id)
    if len(matches) != 1:
        raise InvalidInputError(
            f"{'no run' if not matches else 'several runs'} with an id starting {run_id!r}; give the full id"
        )
    return matches[0]


def resolve_run_ids(ws, run_ids: list[str], doing: str) -> list[str]:  # noqa: ANN001
    """The full ids of every run named, or one error naming each that is not found."""
    found, unknown = [], []
    for run_id in run_ids:
        try:
            found.append(resolve_run_id(ws, run_id))
        except InvalidInputError as exc:
            unknown.append(str(exc))
    if unknown:
        raise NotFoundError(f"cannot {doing}: " + "; ".join(unknown))
    return found


@app.command("show")
def show(run_id: str, output: Format = OutputOpt) -> None:
    """Status, tags, params, metrics, error, artifacts and child runs of one run."""
    run = _run(run_id)
    from trainyard.compute.reaper import reap

    reap(run.workspace)
    info = run.refresh()
    summary = run_summary(
        info, run.workspace.store.get_experiment(info.experiment_id).name, run.get_file_names()
    )
    metric = primary_metric(info.tags)
    summary |= {"primary_metric": metric, "children": children_summary(run, metric)}
    waiting = _waiting(run.workspace, info)
    if output == Format.json:
        print_json({**summary, "waiting": waiting})
    else:
        print_summary(summary, metric_series(run))
        if waiting:
            console.print(f"[yellow]{escape(waiting)}[/]")


def _waiting(ws, info) -> str | None:  # noqa: ANN001
    """What a queued run of a server workspace waits for, when no agent serving its compute is seen."""
    if not ws.is_server or info.status != RunStatus.QUEUED or not info.compute:
        return None
    from trainyard.compute.queues import waiting_note

    return waiting_note(ws, info.compute)


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(
        ..., help="Two or more runs (ids, or the prefixes `run list` shows)."
    ),
    output: Format = OutputOpt,
) -> None:
    """Params and latest metrics of runs side by side; values that differ are highlighted."""
    from trainyard.cli.run_compare import comparison, print_comparison
    from trainyard.compute.reaper import reap

    ws = _ws()
    reap(ws)  # first, so that a run whose worker was lost shows failed
    runs, unknown = [], []
    for run_id in resolve_run_ids(ws, run_ids, "compare"):
        try:
            runs.append(ws.store.get_run(run_id))
        except NotFoundError as exc:
            unknown.append(str(exc))
    if unknown:
        raise NotFoundError("cannot compare: " + "; ".join(unknown))
    if len({r.id for r in runs}) < 2:
        raise InvalidInputError("run compare needs two or more different runs: `run compare RUN RUN …`")
    experiments = {e.id: e.name for e in ws.store.list_experiments(include_deleted=True)}
    compared = comparison(runs, experiments)
    if output == Format.json:
        print_json(compared)
    else:
        print_comparison(compared)


@app.command("logs")
def logs(
    run_id: str,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the run ends."),
) -> None:
    """The run's log (stdout and stderr of the job, and trainyard's own lines)."""
    import sys

    run = _run(run_id)
    if follow:
        run.wait_for_completion(show_output=True, raise_on_error=False)
        return
    text, _ = run.log_text()
    sys.stdout.write(text)


@app.command("metrics")
def metrics(
    run_id: str,
    name: str = typer.Option(None, help="Only this metric."),
    plot: Path = typer.Option(None, help="Also draw the metric curves to this PNG file."),
    attempt: int = typer.Option(None, help="An earlier attempt of a retried job (1 is the first)."),
    output: Format = OutputOpt,
) -> None:
    """Every metric series of a run (of its last attempt, or ``--attempt``); ``--plot`` draws them."""
    run = _run(run_id)
    history = run.workspace.store.get_metric_history(run.id, name, attempt=attempt)
    series: dict[str, list] = {}
    for m in history:
        series.setdefault(m.key, []).append(m)
    if output == Format.json:
        print_json(
            {
                k: [{"step": m.step, "value": m.value, "timestamp": m.timestamp} for m in v]
                for k, v in series.items()
            }
        )
    else:
        rows = [
            [
                k,
                len(v),
                fmt_number(v[-1].value),
                fmt_number(min(m.value for m in v)),
                fmt_number(max(m.value for m in v)),
                f"[cyan]{sparkline([m.value for m in v])}[/]",
            ]
            for k, v in series.items()
        ]
        console.print(table(None, ["metric", "values", "last", "min", "max", "curve"], rows))
    if plot:
        from trainyard.cli.plots import plot_metrics

        plot_metrics(series, plot, title=f"run {run.id[:12]}")
        console.print(f"wrote {plot}")


@app.command("cancel")
def cancel(run_id: str) -> None:
    """Stop a queued or running run (SIGTERM, then SIGKILL after a grace period)."""
    run = _run(run_id)
    run.cancel()
    deadline = time.monotonic() + 20
    while not run.refresh().status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.2)
    console.print(f"run {run.id}: {status_text(run.refresh().status.value)}")


@app.command("download")
def download(
    run_id: str,
    path: str = typer.Option("", help="Only files under this artifact path, e.g. outputs."),
    output_dir: Path | None = typer.Option(
        None,
        "--output-dir",
        "-d",
        "-o",
        help="Where to put them (default: here; snapshot-RUN with --snapshot).",
    ),
    snapshot: bool = typer.Option(False, "--snapshot", help="The code the run ran instead of its artifacts."),
) -> None:
    """Download a run's artifacts, or with --snapshot its code, keeping their relative paths."""
    run = _run(run_id)
    if snapshot:
        if path:
            raise InvalidInputError("--path selects artifacts; --snapshot downloads the whole code snapshot")
        out = output_dir or Path(f"snapshot-{run.id}")
        count = run.download_snapshot(out)
        console.print(f"the code run {run.id} ran: {count} file(s) in {out}")
        return
    files = run.download_files(path, output_dir or Path("."))
    if not files:
        raise InvalidInputError(f"run {run.id} has no artifacts under {path or 'its root'!r}")
    for f in files:
        console.print(str(f))


RunsArg = typer.Argument(..., help="Runs (ids, or the prefixes `run list` shows).")


@app.command("delete")
def delete(run_ids: list[str] = RunsArg) -> None:
    """Soft-delete runs: `run list` and searches leave them out until `run restore`; nothing is removed."""
    ws = _ws()
    ids = resolve_run_ids(ws, run_ids, "delete")
    ws.store.delete_runs(ids)
    console.print(f"deleted {len(ids)} run(s); `trainyard run restore RUN…` brings them back")


@app.command("restore")
def restore(run_ids: list[str] = RunsArg) -> None:
    """Bring deleted runs back into `run list` and searches."""
    ws = _ws()
    ids = resolve_run_ids(ws, run_ids, "restore")
    ws.store.restore_runs(ids)
    console.print(f"restored {len(ids)} run(s)")
