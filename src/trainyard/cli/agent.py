"""``trainyard agent``: run a server workspace's queued jobs for one compute target on this machine."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer

from trainyard.cli.output import console
from trainyard.errors import InvalidInputError


def agent(
    server: str = typer.Option(..., help="The team server, e.g. http://host:8080."),
    compute: str = typer.Option("local", help="The compute target name whose jobs this agent runs."),
    concurrency: int = typer.Option(1, min=1, max=256, help="Jobs run at once."),
    token: str | None = typer.Option(
        None, help="An agent token (default: $TRAINYARD_TOKEN or `trainyard login`'s)."
    ),
    work_dir: Path | None = typer.Option(
        None, help="Scratch folder for jobs (default: ~/.cache/trainyard/agent/NAME)."
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        help="Run the jobs on this Ray cluster (ray://head:10001, http://head:8265 or auto) "
        "instead of on this machine.",
    ),
) -> None:
    """Pull queued jobs for a compute target and run them (here, or on a Ray cluster with --ray);
    Ctrl-C stops claiming and lets jobs finish."""
    from trainyard.compute import TARGET_NAME
    from trainyard.compute.agent import Agent
    from trainyard.credentials import token_for
    from trainyard.workspace import is_server_url

    if not is_server_url(server):
        raise InvalidInputError(f"--server {server!r} must start with http:// or https://")
    if not TARGET_NAME.match(compute):
        raise InvalidInputError(f"--compute {compute!r}: use letters, digits and . _ -")
    token = token or token_for(server)
    if not token:
        raise InvalidInputError(
            "no token: pass --token, set TRAINYARD_TOKEN, or run `trainyard login URL` with an agent token"
        )
    address = None
    if ray is not None:  # looked up once, as `compute create` does: a ray:// lookup costs seconds
        from trainyard.compute.ray_target import connect

        address = connect(ray).get_address()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per claim
    runner = Agent(server, compute, token, concurrency=concurrency, work_dir=work_dir, ray_address=address)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    where = f" on the Ray cluster at {address}" if address else ""
    console.print(
        f"agent {runner.me}: running {compute!r} jobs from {runner.server}{where}, {concurrency} at a time"
    )
    runner.run()
