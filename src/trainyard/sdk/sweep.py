"""``SweepConfig`` and ``SweepRun``: HyperDrive's shape over trainyard's sweep driver."""

from __future__ import annotations

from typing import Any

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob
from trainyard.sdk.run import Experiment, Run
from trainyard.sdk.script_run_config import ScriptRunConfig
from trainyard.status import RunStatus
from trainyard.sweep.policy import Policy
from trainyard.sweep.record import SweepRecord
from trainyard.sweep.space import Parameter
from trainyard.sweep.spec import SweepSpec, build_spec


class SweepConfig:
    """Run ``run_config`` many times over ``search_space``, as child runs of one sweep run."""

    def __init__(
        self,
        run_config: ScriptRunConfig | CommandJob,
        search_space: dict[str, Parameter | dict[str, Any]],
        primary_metric: str,
        goal: str = "maximize",
        sampling: str = "random",
        early_termination: Policy | None = None,
        max_total_trials: int = 20,
        max_concurrent_trials: int = 1,
        timeout_minutes: float | None = None,
        seed: int | None = None,
        warm_start: list[str] | None = None,
    ) -> None:
        self.run_config = run_config
        self.fields: dict[str, Any] = {
            "search_space": search_space,
            "sampling": sampling,
            "objective": {"primary_metric": primary_metric, "goal": goal},
            "early_termination": early_termination,
            "limits": {
                "max_total_trials": max_total_trials,
                "max_concurrent_trials": max_concurrent_trials,
                "timeout": None if timeout_minutes is None else timeout_minutes * 60,
            },
            "seed": seed,
            "warm_start": list(warm_start or []),
        }

    def to_spec(self, experiment_name: str) -> SweepSpec:
        if isinstance(self.run_config, ScriptRunConfig):
            trial = self.run_config.to_job(experiment_name)
        elif isinstance(self.run_config, CommandJob):
            trial = self.run_config.model_copy(update={"experiment_name": experiment_name})
        else:
            raise InvalidInputError("run_config must be a ScriptRunConfig or a CommandJob")
        return build_spec(trial=trial, **self.fields)

    def submit_to(self, experiment: Experiment, tags: dict[str, str] | None = None) -> SweepRun:
        from trainyard.sweep.submit import submit_sweep

        info = submit_sweep(experiment.workspace, self.to_spec(experiment.name), experiment.id, tags)
        return SweepRun(experiment.workspace, info.id, info)


class SweepRun(Run):
    """The parent run of a sweep; its children are the trials."""

    @property
    def spec(self) -> SweepSpec:
        return SweepRecord.of_run(self.info).sweep

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False
    ) -> list[dict[str, Any]]:
        """Completed trials, best first (for the sweep's goal): run id, hyperparameters, value."""
        spec = self.spec
        metric = spec.objective.primary_metric
        scored = [
            {
                "run_id": c.id,
                "hyperparameters": c.params,
                "best_primary_metric": c.metrics[metric],
                "status": c.status.value,
            }
            for c in self.workspace.store.search_runs(parent_id=self.id)
            if c.status == RunStatus.COMPLETED and metric in c.metrics
        ]
        descending = (spec.objective.goal == "maximize") != reverse
        scored.sort(key=lambda row: row["best_primary_metric"], reverse=descending)
        return scored[:top] if top else scored

    def get_best_run(self) -> Run | None:
        best = self.get_children_sorted_by_primary_metric(top=1)
        return Run(self.workspace, best[0]["run_id"]) if best else None
