"""``ScriptRunConfig``: Azure ML's way to say "run this script from this folder"."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.environments import Environment
from trainyard.jobs.spec import CommandJob, make_job
from trainyard.jobs.submit import submit_job

if TYPE_CHECKING:
    from trainyard.sdk.run import Experiment, Run


class ScriptRunConfig:
    def __init__(
        self,
        source_directory: str | Path = ".",
        script: str | None = None,
        arguments: list[Any] | None = None,
        environment: Environment | str | None = None,
        compute_target: str = "local",
        max_run_duration_seconds: float | None = None,
        max_retries: int = 0,
        command: list[str] | str | None = None,
        display_name: str | None = None,
    ) -> None:
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = [str(a) for a in arguments or []]
        self.environment = environment or "default"
        self.compute_target = compute_target
        self.max_run_duration_seconds = max_run_duration_seconds
        self.max_retries = max_retries
        self.command = command
        self.display_name = display_name

    def to_job(self, experiment_name: str) -> CommandJob:
        if self.command is not None:
            command: str | list[str] = self.command
        elif self.script:
            command = ["python", self.script, *self.arguments]
        else:
            command = ""
        return make_job(
            experiment_name=experiment_name,
            display_name=self.display_name,
            code=str(Path(self.source_directory).resolve()),
            command=command,
            environment=self.environment,
            compute=self.compute_target,
            timeout=self.max_run_duration_seconds,
            max_retries=self.max_retries,
        )

    def submit_to(self, experiment: Experiment, tags: dict[str, str] | None = None) -> Run:
        from trainyard.sdk.run import Run

        info = submit_job(experiment.workspace, self.to_job(experiment.name), tags, experiment.id)
        return Run(experiment.workspace, info.id, info)
