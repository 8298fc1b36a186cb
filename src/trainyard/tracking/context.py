"""The current run: the one a script, a sweep or AutoML driver, or a batch-scoring job logs to.

Inside a submitted job the worker sets ``TRAINYARD_RUN_ID``, ``TRAINYARD_WORKSPACE`` and
``TRAINYARD_ATTEMPT``; the current run is then the job's own, which the worker finishes, and its
metrics are written under that attempt (a lost worker's script writing late cannot mix its
values into the retry's). Outside a job it is an offline
run of ``TRAINYARD_EXPERIMENT`` (else ``Default``) in the nearest workspace, owned and finished
by this process (``ownership``). In a distributed job (``RANK`` set, as torchrun and the worker set
it) only rank 0's metrics and tables are the run's: every rank logs the same series, and the
other ranks' would count each step N times. The SDK's ``Run.get_context()`` is ``current_run(Run)``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from trainyard.errors import TrainyardError
from trainyard.tracking import ownership
from trainyard.tracking.buffer import buffer_for
from trainyard.tracking.run import TrackedRun

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

RUN_ID_VAR = "TRAINYARD_RUN_ID"
WORKSPACE_VAR = "TRAINYARD_WORKSPACE"
EXPERIMENT_VAR = "TRAINYARD_EXPERIMENT"
ATTEMPT_VAR = "TRAINYARD_ATTEMPT"

R = TypeVar("R", bound=TrackedRun)
_current: TrackedRun | None = None
_job: tuple[Workspace, str, int] | None = None  # a job run inside this process (``running_job``)


@contextlib.contextmanager
def running_job(ws: Workspace, run_id: str, attempt: int) -> Iterator[None]:
    """Make ``run_id`` the current run while its job runs inside this process rather than in a
    worker of its own (a partition's script in a warm Ray worker): the script's
    ``Run.get_context()`` gets it, of the kind it asks for, on ``ws``; flushed and forgotten after."""
    global _current, _job
    _current, _job = None, (ws, run_id, attempt)
    try:
        yield
    finally:
        try:
            if _current is not None:
                _current.flush()
        finally:
            _current, _job = None, None


def current_run(kind: type[R], allow_offline: bool = True) -> R:
    """This process's run, made as a ``kind`` on the first call and the same object after.

    One object, because it counts the steps of each metric series and the rows of each table.
    """
    global _current
    if _current is None:
        _current = _attach(kind, allow_offline)
    if not isinstance(_current, kind):
        raise TrainyardError(
            f"this process's current run {_current.id} is a {type(_current).__name__}, not a {kind.__name__}"
        )
    return _current


def _attach(kind: type[R], allow_offline: bool) -> R:
    from trainyard.workspace import Workspace

    if _job is not None:
        ws, job_run, job_attempt = _job
        job = kind(ws, job_run, job_owned=True)
        buffer_for(ws.store).log_under(job_run, job_attempt)
        return job
    run_id = os.environ.get(RUN_ID_VAR)
    if run_id:
        ownership.install_hooks()  # SIGTERM still exits through atexit, which flushes the metrics
        run = kind(Workspace.from_config(os.environ[WORKSPACE_VAR]), run_id, job_owned=True)
        run.metrics_muted = os.environ.get("RANK", "0") != "0"  # a distributed job's: rank 0 logs
        attempt = os.environ.get(ATTEMPT_VAR)
        if attempt:
            buffer_for(run.workspace.store).log_under(run_id, int(attempt))
        return run
    if not allow_offline:
        raise TrainyardError("not inside a trainyard job and allow_offline=False")
    ws = Workspace.get_or_create()
    experiment = ws.store.get_or_create_experiment(os.environ.get(EXPERIMENT_VAR) or "Default")
    return kind.start(ws, experiment.id, name=Path(sys.argv[0] or "notebook").name, compute="offline")
