"""``ManyModelsConfig`` and ``ManyModelsRun``: one model per partition of a table, Azure's
many-models names, over trainyard's AutoML or the user's script."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.manymodels.spec import ManyModelsSettings, load_spec, make_many_settings
from trainyard.sdk.run import Experiment, Run

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.workspace import Workspace


class ManyModelsConfig:
    """What to train per partition; ``Experiment.submit`` (or ``submit_many_models``) runs it.

    ``training_data`` is a DataFrame, a .csv / .parquet path or a data asset (``data:sales@latest``).
    The keywords are Azure's: ``partition_column_names``, ``label_column_name``, and either
    ``task`` (AutoML per partition, with any AutoML setting: ``iterations``, ``allowed_models``,
    ``primary_metric``...) or ``command`` + ``code`` (a script that reads ``${{inputs.data}}``
    and writes its model to ``${{outputs.model}}``); ``experiment_timeout_minutes`` (per
    partition), ``max_concurrent_partitions``, ``compute``, ``model_name``.
    """

    def __init__(self, training_data: Any, partition_column_names: list[str], **settings: Any) -> None:
        self.training_data = training_data
        self.settings: ManyModelsSettings = make_many_settings(
            partition_column_names=partition_column_names, **settings
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> ManyModelsConfig:
        """A spec file (``trainyard many-models train -f``); relative paths are the file's."""
        settings, data = load_spec(path)
        config = cls.__new__(cls)
        config.training_data, config.settings = data, settings
        return config

    def submit_to(self, experiment: Experiment, tags: dict[str, str] | None = None) -> ManyModelsRun:
        from trainyard.manymodels.submit import submit_many_models

        settings = self.settings.model_copy(update={"experiment_name": experiment.name})
        info = submit_many_models(experiment.workspace, settings, self.training_data, tags)
        return ManyModelsRun(experiment.workspace, info.id, info)


def submit_many_models(ws: Workspace, config: ManyModelsConfig) -> ManyModelsRun:
    """Queue ``config`` in its own ``experiment_name``."""
    return config.submit_to(Experiment(ws, config.settings.experiment_name))


class ManyModelsRun(Run):
    """The parent run of a many-models group; its children are the partitions' runs."""

    def get_leaderboard(self) -> dict[str, list[Any]]:
        """One row per partition: the table logged at the end, or while the run is still going,
        the same table built from the partitions' runs so far."""
        from trainyard.manymodels.driver import Group

        group = Group.of_run(self.workspace, self.id)  # refuses a run that is not a many-models one
        table = self.get_metrics("leaderboard").get("leaderboard")
        return table if table is not None else group.leaderboard()

    def retry(
        self, *partitions: str, config: ManyModelsConfig | None = None, timeout_seconds: float | None = None
    ) -> list[Run]:
        """Train ``partitions`` (``"store=3"``) again, with ``config``'s script or settings if given
        (a fixed spec), wait for them and log the leaderboard anew; returns their runs."""
        from trainyard.manymodels.driver import retry

        settings = None if config is None else config.settings
        ended = retry(self.workspace, self.id, list(partitions), settings, timeout_seconds)
        return [Run(self.workspace, info.id, info) for info in ended]

    def score(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` with each row's prediction from its partition's model (and the model's version)."""
        from trainyard.manymodels.driver import Group
        from trainyard.manymodels.score import score_frame

        settings = Group.of_run(self.workspace, self.id).settings
        return score_frame(
            self.workspace,
            settings.group_model_name,
            settings.partition_column_names,
            data,
            settings.label_column_name,
        )
