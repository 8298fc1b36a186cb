"""``AutoMLConfig`` and ``AutoMLRun``: Azure AutoML's shape over trainyard's AutoML driver."""

from __future__ import annotations

from typing import Any

from trainyard.automl.config import AutoMLSettings, make_settings
from trainyard.errors import NotFoundError
from trainyard.sdk.run import Experiment, Run


class AutoMLConfig:
    """What to learn from which data, under which budget; ``Experiment.submit`` runs it.

    ``training_data`` (and ``validation_data``) is a DataFrame or a .csv / .parquet path. The
    keywords are Azure's: ``task``, ``label_column_name``, ``primary_metric``,
    ``n_cross_validations`` | ``validation_size`` | ``validation_data``,
    ``experiment_timeout_minutes``, ``iterations``, ``max_concurrent_iterations``,
    ``experiment_exit_score``, ``enable_early_stopping``, ``allowed_models``, ``blocked_models``,
    ``featurization``, ``enable_ensembling``, and for forecasting ``time_column_name``,
    ``forecast_horizon``, ``time_series_id_column_names``, ``lags``, ``rolling_windows``.
    """

    def __init__(
        self,
        task: str,
        training_data: Any,
        label_column_name: str,
        validation_data: Any = None,
        **settings: Any,
    ) -> None:
        self.training_data = training_data
        self.validation_data = validation_data
        self.settings: AutoMLSettings = make_settings(
            task=task, label_column_name=label_column_name, **settings
        )

    def submit_to(self, experiment: Experiment, tags: dict[str, str] | None = None) -> AutoMLRun:
        from trainyard.automl.submit import submit_automl

        info = submit_automl(
            experiment.workspace,
            self.settings,
            self.training_data,
            experiment.name,
            self.validation_data,
            tags,
        )
        return AutoMLRun(experiment.workspace, info.id, info)


class AutoMLRun(Run):
    """The parent run of an AutoML experiment; its children are the trials."""

    def get_leaderboard(self) -> dict[str, list[Any]]:
        """Every trial, best first: the table logged at the end, or while the run is still
        searching, the same table built from the trials recorded so far."""
        table = self.get_metrics("leaderboard").get("leaderboard")
        if table is not None:
            return table
        from trainyard.automl import trials

        metric = self.tags.get("automl.primary_metric", "")
        children = self.workspace.store.search_runs(parent_id=self.id)
        return trials.leaderboard([trials.from_run(c) for c in children], metric)

    def get_output(self) -> tuple[Run, Any]:
        """The best trial's run and the fitted pipeline (featurization + model; scores raw rows)."""
        from trainyard.models import load

        tags = self.tags
        if "automl.best_run_id" not in tags:
            raise NotFoundError(f"run {self.id} has no best model (status {self.get_status()})")
        name, _, version = tags["automl.model"].rpartition(":")
        model = load(f"models:/{name}/{version}", workspace=self.workspace)
        return Run(self.workspace, tags["automl.best_run_id"]), model.model
