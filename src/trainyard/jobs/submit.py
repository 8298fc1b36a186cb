"""Submitting a command job: validate, snapshot, record the run as queued, hand it to compute.

Everything a user can get wrong is checked before the run is created, so a bad submit leaves
nothing queued behind it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.compute import get_compute
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.snapshot import take_snapshot
from trainyard.jobs.spec import CommandJob
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

PYTHON_NAMES = ("python", "python3", sys.executable)


def resolve_environment(ws: Workspace, env: Environment | str) -> Environment:
    if isinstance(env, Environment):
        return env
    if env in ("", "default"):
        return Environment()
    name, _, version = env.partition(":")
    if version and not version.isdigit():
        raise InvalidInputError(f"environment {env!r}: the version after ':' must be a number")
    return Environment.get(ws.store, name, int(version) if version else None)


def _check_script(code: Path, argv: list[str]) -> None:
    """``python script.py`` must name a script that is in the snapshot."""
    if argv[0] in PYTHON_NAMES and len(argv) > 1 and not argv[1].startswith("-"):
        script = code / argv[1]
        if not script.is_file():
            raise InvalidInputError(f"script {argv[1]!r} not found in the source directory {code}")


def submit_job(
    ws: Workspace, job: CommandJob, tags: dict[str, str] | None = None, experiment_id: str | None = None
) -> RunInfo:
    code = Path(job.code).resolve()
    if not code.is_dir():
        raise InvalidInputError(f"source directory {code} does not exist")
    argv = job.argv()
    _check_script(code, argv)
    compute = get_compute(job.compute)
    env = resolve_environment(ws, job.environment)
    if not env.is_default:
        env.register(ws.store)
    snapshot = take_snapshot(code, ws.artifacts, int(ws.config.snapshot_max_mb * 1e6))
    if experiment_id is None:
        experiment_id = ws.store.get_or_create_experiment(job.experiment_name).id
    record = job.model_dump(mode="json")
    record.update(argv=argv, environment=env.model_dump(mode="json"))
    info = ws.store.create_run(
        experiment_id,
        name=job.display_name,
        compute=job.compute,
        job=record,
        snapshot_id=snapshot.id,
        environment=env.name,
        tags={**job.tags, **(tags or {})},
    )
    params = {k: (v.path if hasattr(v, "path") else str(v)) for k, v in job.inputs.items()}
    if params:
        ws.store.log_batch(info.id, params=params)
    compute.submit(ws, info)
    return info
