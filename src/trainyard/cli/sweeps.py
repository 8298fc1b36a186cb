"""``trainyard sweep submit|show|resume|cancel``."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import Format, console, fmt_duration, fmt_number, print_json, status_text, table

app = typer.Typer(
    help="Hyperparameter sweeps: one script, many trials, the best one found.", no_args_is_help=True
)


def _sweep(run_id: str):  # noqa: ANN202
    from trainyard.cli.runs import resolve_run_id
    from trainyard.compute.job import JobKind, recorded_job
    from trainyard.errors import InvalidInputError
    from trainyard.sdk.sweep import SweepRun
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    run = SweepRun(ws, resolve_run_id(ws, run_id))
    job = recorded_job(run.info)
    if job is None or job.type is not JobKind.SWEEP:
        raise InvalidInputError(f"run {run.id} is not a sweep; `trainyard run show {run.id}` shows it")
    return run


@app.command("submit")
def submit(
    file: Path = typer.Option(
        ..., "--file", "-f", help="Sweep YAML: a job spec plus search_space, objective…"
    ),
    experiment: str = typer.Option(None, "--experiment", "-e", help="Experiment name (overrides the spec)."),
    stream: bool = typer.Option(False, "--stream", help="Follow the sweep's log and wait for the end."),
) -> None:
    """Queue a sweep; its trials run as child runs on the trial's compute target."""
    from trainyard.sweep.spec import load_sweep
    from trainyard.sweep.submit import submit_sweep
    from trainyard.workspace import Workspace

    spec = load_sweep(file)
    if experiment:
        spec.trial.experiment_name = experiment
    ws = Workspace.from_config()
    info = submit_sweep(ws, spec)
    _started(ws, info.id, spec.trial.experiment_name, stream)


def _started(ws, run_id: str, experiment: str, stream: bool) -> None:  # noqa: ANN001
    from trainyard.cli.jobs import queued

    said = f"sweep [bold]{run_id}[/] queued in experiment [bold]{experiment}[/]"
    queued(ws, run_id, said, stream, "sweep", lambda shown: show(shown, plot=None, output=Format.table))


@app.command("show")
def show(
    run_id: str,
    plot: Path | None = typer.Option(
        None, help="Draw the trials' metric curves and a parallel-coordinates view to PNG."
    ),
    output: Format = typer.Option(Format.table, "--output", "-o"),
) -> None:
    """The leaderboard of a sweep's trials, best first."""
    run = _sweep(run_id)
    spec = run.spec
    metric = spec.objective.primary_metric
    children = run.workspace.store.search_runs(parent_id=run.id)
    ranked = {row["run_id"]: i for i, row in enumerate(run.get_children_sorted_by_primary_metric())}
    children.sort(key=lambda c: (ranked.get(c.id, len(ranked)), int(c.tags.get("sweep.trial", 0))))
    rows = [
        {
            "trial": int(c.tags.get("sweep.trial", 0)),
            "run_id": c.id,
            "status": c.status.value,
            metric: c.metrics.get(metric),
            "duration": c.duration,
            "params": c.params,
            "error": c.error,
        }
        for c in children
    ]
    if output == Format.json:
        print_json(
            {
                "sweep": run.id,
                "status": run.get_status(),
                "objective": spec.objective.model_dump(),
                "best_run_id": run.tags.get("sweep.best_run_id"),
                "trials": rows,
            }
        )
    else:
        names = list(spec.space)
        console.print(
            table(
                f"Sweep {run.id[:12]} ({run.get_status()}): {spec.objective.goal} {metric}",
                ["#", "trial", "status", metric, *names, "duration", "run"],
                [
                    [
                        i + 1,
                        r["trial"],
                        status_text(r["status"]),
                        fmt_number(r[metric]) if r[metric] is not None else "-",
                        *[_short(r["params"].get(n, "")) for n in names],
                        fmt_duration(r["duration"]),
                        r["run_id"][:12],
                    ]
                    for i, r in enumerate(rows)
                ],
            )
        )
    if plot:
        from trainyard.cli.plots import plot_sweep

        curves = {c.id: run.workspace.store.get_metric_history(c.id, metric) for c in children}
        plot_sweep(children, curves, list(spec.space), metric, spec.objective.goal, plot)
        console.print(f"wrote {plot}")


def _short(value: str) -> str:
    try:
        return fmt_number(float(value)) if "." in value else value
    except ValueError:
        return value


@app.command("resume")
def resume(
    run_id: str,
    stream: bool = typer.Option(False, "--stream", help="Follow the new sweep's log."),
) -> None:
    """Continue a canceled or finished sweep: a new sweep, warm-started, with the trials it has left."""
    from trainyard.sweep.submit import resume_spec, submit_sweep

    old = _sweep(run_id)
    spec = resume_spec(old.workspace, old.info)
    info = submit_sweep(old.workspace, spec, old.info.experiment_id)
    _started(old.workspace, info.id, spec.trial.experiment_name, stream)


@app.command("cancel")
def cancel(run_id: str) -> None:
    """Cancel the sweep and every trial still running."""
    from trainyard.cli.runs import cancel as cancel_run

    cancel_run(_sweep(run_id).id)
