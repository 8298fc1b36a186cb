"""``Run`` and ``Experiment``: a tracked run, seen from the script that logs to it or from whoever
submitted it, and the named group of runs it belongs to.

They live in one module because each hands out the other (``experiment.submit`` returns a run,
``run.experiment`` its experiment).
"""

from __future__ import annotations

import builtins
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from trainyard.artifacts import run_key
from trainyard.compute.base import CANCELED_BY_USER
from trainyard.deletion import RunView
from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError
from trainyard.status import RunStatus
from trainyard.tracking.context import current_run
from trainyard.tracking.run import TrackedRun

if TYPE_CHECKING:
    from trainyard.registry import Model
    from trainyard.workspace import Workspace

LOG_FILE = "logs/std_log.txt"


class RunFailedError(TrainyardError):
    """``wait_for_completion`` saw the run end failed or canceled."""


class Run(TrackedRun):
    # the script's view ---------------------------------------------------------------------
    @classmethod
    def get_context(cls, allow_offline: bool = True) -> Run:
        """The submitted job's run; outside a job, an offline run recorded in the workspace."""
        return current_run(cls, allow_offline)

    @property
    def experiment(self) -> Experiment:
        return Experiment(self.workspace, self.workspace.store.get_experiment(self.experiment_id).name)

    @property
    def parent(self) -> Run | None:
        pid = self.info.parent_id
        return type(self)(self.workspace, pid) if pid else None

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """A child run, running now, finished when this process exits if not before."""
        return self.start(
            self.workspace, self.experiment_id, name=name, parent_id=self.id, compute=self.info.compute
        )

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: list[str] | None = None
    ) -> list[Run]:
        if tag_values is not None:
            children = [self.child_run() for _ in tag_values]
            for child, value in zip(children, tag_values, strict=True):
                child.tag(tag_key or "child", value)
            return children
        if count is None or count < 1:
            raise InvalidInputError("create_children needs count >= 1 or tag_values")
        return [self.child_run() for _ in range(count)]

    def get_children(self) -> list[Run]:
        return [
            type(self)(self.workspace, r.id, r) for r in self.workspace.store.search_runs(parent_id=self.id)
        ]

    def register_model(
        self,
        model_name: str,
        model_path: str = "outputs",
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> Model:
        """Register one of this run's artifacts (a file or a folder) as the next version of ``model_name``."""
        from trainyard.registry import Model

        self.flush()
        return Model.register_from_run(
            self.workspace, self.id, model_name, model_path, tags, properties, description
        )

    # the submitter's view --------------------------------------------------------------------
    def get_details(self) -> dict[str, Any]:
        info = self.refresh()
        return {
            "runId": info.id,
            "name": info.name,
            "status": info.status.value,
            "experiment": self.workspace.store.get_experiment(info.experiment_id).name,
            "startTimeUtc": info.start_time,
            "endTimeUtc": info.end_time,
            "compute": info.compute,
            "error": info.error,
            "exitCode": info.exit_code,
            "attempt": info.attempt,
            "tags": info.tags,
            "params": info.params,
            "job": info.job,
        }

    def cancel(self, reason: str = CANCELED_BY_USER) -> None:
        """Stop the run; it ends ``canceled`` with ``reason`` as its cancel reason and its error."""
        from trainyard.compute import get_compute

        info = self.refresh()
        get_compute(info.compute or "local", self.workspace).cancel(self.workspace, info, reason)
        self._info = None

    def restore_snapshot(
        self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None
    ) -> str:
        """The code the run ran, as a ZIP file (Azure ML's ``Run.restore_snapshot``); returns its path.

        ``path`` is a folder for ``<snapshot id>.zip`` (the current one by default) or a ``.zip`` file.
        """
        from trainyard.jobs.snapshot import snapshot_zip

        snapshot = self._snapshot_id(snapshot_id)
        target = Path(path or ".")
        if target.suffix.lower() != ".zip":
            target = target / f"{snapshot}.zip"
        return str(snapshot_zip(snapshot, self.workspace.artifacts, target))

    def download_snapshot(self, output_directory: str | os.PathLike[str]) -> int:
        """Restore the code the run ran into a folder; returns the number of files. A file there
        that differs from the snapshot's is refused (nothing is written then), never overwritten."""
        from trainyard.jobs.snapshot import restore_snapshot

        out = Path(output_directory)
        return restore_snapshot(self._snapshot_id(), self.workspace.artifacts, out, overwrite=False)

    def _snapshot_id(self, asked: str | None = None) -> str:
        snapshot = self.refresh().snapshot_id
        if snapshot is None:
            raise NotFoundError(
                f"run {self.id} has no code snapshot: it was not submitted as a job "
                "(a notebook, an MLflow client or an AutoML trial logged it)"
            )
        if asked is not None and asked != snapshot:
            raise InvalidInputError(f"run {self.id} ran snapshot {snapshot}, not {asked!r}")
        return snapshot

    def log_text(self, offset: int = 0) -> tuple[str, int]:
        """The run's log from byte ``offset``; returns the text and the next offset.

        Only the bytes after ``offset`` are fetched, from any artifact store (a server's too), so
        a follower polls with the offset it got last. A character the log's end cuts in two (the
        rest not written yet) is left for the next call.
        """
        try:
            data = b"".join(self.workspace.artifacts.read(run_key(self.id, LOG_FILE), offset))
        except NotFoundError:  # no log yet
            return "", offset
        data = data[: _whole_characters(data)]
        return data.decode(errors="replace"), offset + len(data)

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout_seconds: float | None = None,
        stream: TextIO | None = None,
    ) -> dict[str, Any]:
        """Block until the run ends, printing its log as it grows when ``show_output``."""
        from trainyard.compute.reaper import reap
        from trainyard.compute.wakeup import Waiter

        out = stream or sys.stdout
        offset = 0
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        last_reap = 0.0
        with Waiter(self.workspace.root, "end", self.id) as waiter:  # its worker wakes it at the end
            while True:
                status = self.refresh().status
                if show_output:
                    text, offset = self.log_text(offset)
                    if text:
                        out.write(text)
                        out.flush()
                if status.is_terminal:
                    break
                if time.monotonic() - last_reap > 2:
                    reap(self.workspace)
                    last_reap = time.monotonic()
                if deadline is not None and time.monotonic() > deadline:
                    raise TrainyardError(f"run {self.id} is still {status.value} after {timeout_seconds}s")
                waiter.wait(0.1)
        if show_output:
            text, offset = self.log_text(offset)
            out.write(text)
        details = self.get_details()
        if raise_on_error and status != RunStatus.COMPLETED:
            raise RunFailedError(
                f"run {self.id} ended {status.value}: {details['error'] or 'no reason recorded'}"
            )
        return details


def _whole_characters(data: bytes) -> int:
    """How many bytes of ``data`` hold whole UTF-8 characters: all but a multi-byte one cut at the end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # the last character's first byte
            needed = next(n for n, lead in ((4, 0xF0), (3, 0xE0), (2, 0xC0), (1, 0)) if byte & lead == lead)
            return len(data) - back if needed > back else len(data)
    return len(data)


class Submittable(Protocol):
    """Anything ``Experiment.submit`` accepts: a ScriptRunConfig, a job spec, later sweeps."""

    def submit_to(self, experiment: Experiment, tags: dict[str, str] | None = None) -> Run: ...


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name
        self._record = workspace.store.get_or_create_experiment(name)
        self.id = self._record.id

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r})"

    @classmethod
    def list(cls, workspace: Workspace) -> list[Experiment]:
        return [cls(workspace, e.name) for e in workspace.store.list_experiments()]

    def submit(self, config: Submittable, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        """Queue ``config`` as a run of this experiment and return it at once."""
        from trainyard.jobs.spec import CommandJob

        if isinstance(config, CommandJob):
            from trainyard.jobs.submit import submit_job

            info = submit_job(self.workspace, config, tags, self.id)
            return Run(self.workspace, info.id, info)
        from trainyard.pipelines.spec import PipelineJob

        if isinstance(config, PipelineJob):
            from trainyard.pipelines.submit import submit_pipeline

            info = submit_pipeline(
                self.workspace, config.model_copy(update={"experiment_name": self.name}), tags
            )
            return Run(self.workspace, info.id, info)
        if not hasattr(config, "submit_to"):
            raise InvalidInputError(
                f"cannot submit a {type(config).__name__}; pass a ScriptRunConfig, a job spec or a pipeline"
            )
        return config.submit_to(self, tags=tags)

    def start_logging(self, display_name: str | None = None, **kwargs: Any) -> Run:
        """An interactive run (notebooks): running now, finished by ``complete()`` or at exit."""
        return Run.start(self.workspace, self.id, name=display_name, compute="offline")

    def get_runs(
        self, include_children: bool = False, view: RunView = RunView.ACTIVE
    ) -> builtins.list[Run]:  # `list` is the classmethod
        """The experiment's runs, newest first; deleted ones left out (MLflow's ``ACTIVE_ONLY``)
        unless ``view`` is ``RunView.DELETED`` or ``RunView.ALL``."""
        runs = self.workspace.store.search_runs([self.id], view=view)
        return [Run(self.workspace, r.id, r) for r in runs if include_children or r.parent_id is None]
