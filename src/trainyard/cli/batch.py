"""``trainyard batch score``: score a file with a registered model, as a tracked job."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import console

app = typer.Typer(help="Batch scoring jobs.", no_args_is_help=True)


@app.command("score")
def score(
    model: str = typer.Option(..., "--model", "-m", help="name, name:VERSION, name@ALIAS or a model folder"),
    input_path: Path = typer.Option(
        ..., "--input", "-i", help="CSV, Parquet or JSON-lines file to score (a folder: with --entry-script)."
    ),
    output_path: Path = typer.Option(
        ..., "--output", "-o", help="Where to write input + prediction columns (or the rows run() returns)."
    ),
    mini_batch_size: int = typer.Option(
        None,
        "--mini-batch-size",
        "--chunk-size",
        min=1,
        help="Rows per chunk of a table (default 10,000: memory use follows it), files per mini-batch "
        "of a folder (default 10).",
    ),
    entry_script: Path = typer.Option(
        None, help="An Azure batch scoring script: init() once, then run(mini_batch) returning rows."
    ),
    error_threshold: int = typer.Option(
        -1, min=-1, help="With --entry-script: fail the job once more items than this failed (-1: never)."
    ),
    environment: str = typer.Option(None, help="NAME[:VERSION] of a registered environment to score in."),
    experiment: str = typer.Option("batch-score", "--experiment", "-e"),
    stream: bool = typer.Option(False, "--stream", help="Follow the job's log and wait for it."),
) -> None:
    """Queue a job that scores INPUT chunk by chunk and writes OUTPUT."""
    import shutil
    import tempfile

    from trainyard.errors import InvalidInputError
    from trainyard.jobs.spec import make_job
    from trainyard.jobs.submit import submit_job
    from trainyard.serving.batch import check_paths, model_uri
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    source, target = input_path.resolve(), output_path.resolve()
    check_paths(source, target, scripted=entry_script is not None)
    if entry_script is not None and not entry_script.is_file():
        raise InvalidInputError(f"entry script {entry_script} does not exist")
    uri = model_uri(model)
    if uri.startswith("models:/"):
        from trainyard.registry import Model

        Model(ws, uri)  # an unknown model or alias fails now, not in the job
    command = ["python", "-m", "trainyard.serving.batch", "--model", model, "--input", str(source)]
    command += ["--output", str(target), "--error-threshold", str(error_threshold)]
    if mini_batch_size is not None:
        command += ["--chunk-size", str(mini_batch_size)]
    with tempfile.TemporaryDirectory(prefix="trainyard-batch-") as code:  # snapshotted when submitted
        if entry_script is not None:
            shutil.copy(entry_script, Path(code) / entry_script.name)
            command += ["--entry-script", entry_script.name]
        job = make_job(
            experiment_name=experiment, code=code, command=command, environment=environment or "default"
        )
        info = submit_job(ws, job)
    console.print(f"batch scoring run [bold]{info.id}[/] queued")
    if stream:
        from trainyard.cli.jobs import follow

        follow(ws, info.id)
