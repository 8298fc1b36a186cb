"""``Experiment``: a named group of runs, and the place jobs are submitted to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from trainyard.errors import InvalidInputError
from trainyard.status import RunStatus
from trainyard.tracking import context

if TYPE_CHECKING:
    from trainyard.sdk.run import Run
    from trainyard.workspace import Workspace


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
            from trainyard.sdk.run import Run

            info = submit_job(self.workspace, config, tags, self.id)
            return Run(self.workspace, info.id, info)
        if not hasattr(config, "submit_to"):
            raise InvalidInputError(
                f"cannot submit a {type(config).__name__}; pass a ScriptRunConfig or a job spec"
            )
        return config.submit_to(self, tags=tags)

    def start_logging(self, display_name: str | None = None, **kwargs: Any) -> Run:
        """An interactive run (notebooks): running now, finished by ``complete()`` or at exit."""
        from trainyard.sdk.run import Run

        info = self.workspace.store.create_run(
            self.id, name=display_name, status=RunStatus.RUNNING, compute="offline"
        )
        run = Run(self.workspace, info.id, info)
        context.own(run)
        return run

    def get_runs(self, include_children: bool = False) -> list[Run]:
        from trainyard.sdk.run import Run

        runs = self.workspace.store.search_runs([self.id])
        return [Run(self.workspace, r.id, r) for r in runs if include_children or r.parent_id is None]
