"""``trainyard batch score``: score a file with a registered model, as a tracked job."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import console

app = typer.Typer(help="Batch scoring jobs.", no_args_is_help=True)


@app.command("score")
def score(
    model: str = typer.Option(..., "--model", "-m", help="name, name:VERSION, name@ALIAS or a model folder"),
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV, Parquet or JSON-lines file to score."),
    output_path: Path = typer.Option(
        ..., "--output", "-o", help="Where to write input + prediction columns."
    ),
    chunk_size: int = typer.Option(10_000, min=1, help="Rows per chunk (memory use follows this)."),
    experiment: str = typer.Option("batch-score", "--experiment", "-e"),
    stream: bool = typer.Option(False, "--stream", help="Follow the job's log and wait for it."),
) -> None:
    """Queue a job that scores INPUT chunk by chunk and writes OUTPUT."""
    from trainyard.jobs.spec import make_job
    from trainyard.jobs.submit import submit_job
    from trainyard.serving.batch import check_paths, model_uri
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    source, target = input_path.resolve(), output_path.resolve()
    check_paths(source, target)
    uri = model_uri(model)
    if uri.startswith("models:/"):
        from trainyard.registry import Model

        Model(ws, uri)  # an unknown model or alias fails now, not in the job
    code = ws.root / "batch"
    code.mkdir(exist_ok=True)
    job = make_job(
        experiment_name=experiment,
        code=str(code),
        command=[
            "python",
            "-m",
            "trainyard.serving.batch",
            "--model",
            model,
            "--input",
            str(source),
            "--output",
            str(target),
            "--chunk-size",
            str(chunk_size),
        ],
    )
    info = submit_job(ws, job)
    console.print(f"batch scoring run [bold]{info.id}[/] queued")
    if stream:
        from trainyard.cli.jobs import follow

        follow(ws, info.id)
