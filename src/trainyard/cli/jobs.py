"""``trainyard job submit``: from a YAML spec, or ``--script`` and arguments after ``--``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO, cast

import typer

from trainyard.cli.output import console, status_text

app = typer.Typer(help="Submit jobs.", no_args_is_help=True)


def _parse_set(values: list[str]) -> dict[str, str]:
    from trainyard.errors import InvalidInputError

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("inputs."):
            raise InvalidInputError(f"--set {item!r}: use --set inputs.NAME=VALUE")
        out[key.removeprefix("inputs.")] = value
    return out


@app.command("submit")
def submit(
    file: Path = typer.Option(None, "--file", "-f", help="YAML job spec."),
    script: str = typer.Option(None, help="Script to run with Python (instead of --file)."),
    source: Path = typer.Option(Path("."), help="Source directory to snapshot, with --script."),
    experiment: str = typer.Option(None, "--experiment", "-e", help="Experiment name (overrides the spec)."),
    env_file: Path = typer.Option(None, "--env-file", help="Environment YAML, with --script."),
    compute: str = typer.Option(None, help="Compute target (default: local)."),
    timeout: float = typer.Option(None, help="Seconds before the run is stopped."),
    name: str = typer.Option(None, "--name", help="Display name of the run."),
    set_: list[str] = typer.Option([], "--set", help="Override an input: --set inputs.alpha=0.1"),
    stream: bool = typer.Option(False, "--stream", help="Follow the log and wait for the end."),
    args: list[str] = typer.Argument(None, help="Arguments for --script, after --."),
) -> None:
    """Queue a command job on a compute target; ``--stream`` waits and shows its log."""
    from trainyard.environments import Environment
    from trainyard.errors import InvalidInputError
    from trainyard.jobs.spec import load_job, make_job, with_fields
    from trainyard.jobs.submit import submit_job
    from trainyard.workspace import Workspace

    if (file is None) == (script is None):
        raise InvalidInputError("give either --file job.yml or --script train.py (with --source DIR)")
    if file is not None:
        job = load_job(file)
        if args:
            raise InvalidInputError("arguments after -- go with --script; put them in the spec's command")
    else:
        job = make_job(code=str(source.resolve()), command=["python", script, *(args or [])])
    overrides = _parse_set(set_)
    unknown = sorted(set(overrides) - set(job.inputs))
    if unknown:
        raise InvalidInputError(f"--set names inputs the job does not have: {', '.join(unknown)}")
    job.inputs.update(overrides)
    given = {"experiment_name": experiment, "compute": compute, "timeout": timeout, "display_name": name}
    job = with_fields(job, "the command line", **{k: v for k, v in given.items() if v is not None})
    if env_file is not None:
        job.environment = Environment.from_file(env_file)
    ws = Workspace.from_config()
    info = submit_job(ws, job)
    console.print(
        f"run [bold]{info.id}[/] queued in experiment [bold]{job.experiment_name}[/] on {job.compute}"
    )
    if not stream:
        console.print(f"follow it with: trainyard run logs {info.id} --follow")
        return
    follow(ws, info.id)


def queued(ws, run_id: str, said: str, stream: bool, noun: str, show: Callable[[str], None]) -> None:  # noqa: ANN001
    """Say that a parent run (``said``) is queued. With ``stream`` follow its log, then ``show`` it
    (after a Ctrl-C too: what it did so far); else name the commands that do.
    """
    console.print(said)
    if not stream:
        console.print(
            f"follow it with: trainyard run logs {run_id} --follow; then trainyard {noun} show {run_id}"
        )
        return
    try:
        follow(ws, run_id, summary=False)
    finally:
        show(run_id)


def follow(ws, run_id: str, summary: bool = True) -> None:  # noqa: ANN001
    """Stream the log under a live status line, then print the run's summary table."""
    import io

    from trainyard.cli.runs import metric_series, print_summary, run_summary
    from trainyard.sdk.run import Run

    run = Run(ws, run_id)

    class _Printer(io.TextIOBase):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            return len(text)

    with console.status(f"run {run_id[:12]} in progress…"):
        run.wait_for_completion(show_output=True, raise_on_error=False, stream=cast(TextIO, _Printer()))
    info = run.refresh()
    if summary:
        print_summary(run_summary(info, run.experiment.name, run.get_file_names()), metric_series(run))
    if info.status.value != "completed":
        console.print(f"run ended {status_text(info.status.value)}")
        raise typer.Exit(1)
