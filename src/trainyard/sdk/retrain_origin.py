"""Where a registered model came from, and how to train it again on new data.

The model's lineage names the run that made it, and that run's record says how it was made:

- a command job (a sweep's trial too): the same job (code snapshot, command with the trial's
  values, environment) with the new data as one of its inputs;
- an AutoML job: the same settings and validation data, on the new data as ``training_data``;
- component runs: the chain of runs behind the model's output, with its data source replaced
  (``components/rerun.py``).

Anything else (files registered from a folder, a run a notebook or an MLflow client logged) is
refused before anything runs, with what would make the model retrainable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from trainyard.compute.job import JobKind, JobRecord, JobRecordError, recorded_job
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob, PathInput
from trainyard.jobs.submit import PreparedJob, job_record, start_run
from trainyard.registry import Model
from trainyard.sdk.run import Run
from trainyard.store import RunInfo
from trainyard.workspace import Workspace

RETRAINABLE = (
    "train it as a command job with its data as an input (`inputs: {data: {type: uri_file, path: "
    "train.csv}}`, `--data ${{inputs.data}}` in the command), as an AutoML job, or with component "
    "runs, and register the model from that run"
)


class Origin(ABC):
    """A model's training, ready to run again."""

    def __init__(self, ws: Workspace, model: Model) -> None:
        self.ws, self.model = ws, model

    @abstractmethod
    def train(self, data: Path, tags: dict[str, str], show_output: bool) -> tuple[str, Model]:
        """Train on ``data``; the run that made the new model, and the model registered as the
        next version of the same name."""

    def _register(self, run_id: str, path: str) -> Model:
        return Model.register_from_run(
            self.ws, run_id, self.model.name, path, tags={"retrained_from": self.model.id}
        )


@dataclass
class _Artifact:
    run: RunInfo
    path: str  # in the run's artifacts: outputs/model.pkl


class CommandOrigin(Origin):
    def __init__(
        self, ws: Workspace, model: Model, made: _Artifact, record: JobRecord, input_name: str
    ) -> None:
        super().__init__(ws, model)
        self.made, self.record, self.input_name = made, record, input_name
        self.job = CommandJob.model_validate(
            record.model_dump(mode="json", include=set(CommandJob.model_fields))
        )
        if input_name not in self.job.inputs:
            known = ", ".join(sorted(self.job.inputs)) or "none"
            raise InvalidInputError(
                f"the training job of {model.id} has no input {input_name!r} (inputs: {known})"
            )

    def train(self, data: Path, tags: dict[str, str], show_output: bool) -> tuple[str, Model]:
        from trainyard.jobs.uploads import upload_inputs

        job = self.job.model_copy(deep=True)
        job.inputs[self.input_name] = PathInput(type="uri_file", path=str(data))
        if self.ws.is_server:  # an agent elsewhere runs it: the data goes with it
            job = upload_inputs(job, self.ws.artifacts)
        run = self.made.run
        prepared = PreparedJob(job, self.record.environment, run.snapshot_id or "", run.experiment_id)
        info = start_run(
            self.ws, prepared, record=job_record(prepared, JobRecord, self._argv(job)), tags=tags
        )
        Run(self.ws, info.id).wait_for_completion(show_output=show_output)
        return info.id, self._register(info.id, self.made.path)

    def _argv(self, job: CommandJob) -> list[str] | None:
        """A sweep trial's command line carries its search-space values; other jobs', their command."""
        parent = self.made.run.parent_id
        if parent is None:
            return None
        from trainyard.sweep.record import SweepRecord

        try:
            sweep = SweepRecord.of_run(self.ws.store.get_run(parent))
        except JobRecordError:  # a child of something other than a sweep
            return None
        return sweep.trial_argv(self.made.run, job)


class AutoMLOrigin(Origin):
    def __init__(self, ws: Workspace, model: Model, made: _Artifact, input_name: str) -> None:
        super().__init__(ws, model)
        if input_name not in ("data", "training_data"):
            raise InvalidInputError(
                f"{model.id} came from the AutoML run {made.run.id}, whose one data input is its "
                f"training_data; there is no input {input_name!r}"
            )
        self.parent = made.run

    def train(self, data: Path, tags: dict[str, str], show_output: bool) -> tuple[str, Model]:
        from trainyard.automl.submit import resubmit_automl

        info = resubmit_automl(self.ws, self.parent, data, self.model.name, tags)
        run = Run(self.ws, info.id)
        run.wait_for_completion(show_output=show_output)
        name, _, version = run.refresh().tags["automl.model"].rpartition(":")
        self.ws.store.update_model_version(name, int(version), tags={"retrained_from": self.model.id})
        return info.id, Model(self.ws, name, int(version))


class ComponentOrigin(Origin):
    def __init__(self, ws: Workspace, model: Model, made: _Artifact, input_name: str) -> None:
        from trainyard.components.persist import MODEL_DIR
        from trainyard.components.rerun import Chain
        from trainyard.components.runner import REF_PREFIX, TAG, parse_ref

        super().__init__(ws, model)
        run_id, port = made.run.id, made.path.split("/")[1]
        if made.run.tags[TAG] == "save-trained-model" and made.path == MODEL_DIR:
            # it saved its input: retrain the run that made that, not the save (it moves aliases)
            given = made.run.tags.get(f"{TAG}.source.model", "")
            if not given.startswith(REF_PREFIX):
                raise InvalidInputError(
                    f"{model.id} was saved by the save-trained-model run {run_id} from a model "
                    f"passed in memory, so nothing records how it was trained; {RETRAINABLE}"
                )
            run_id, out = parse_ref(given)
            port = out or "trained_model"
        self.chain = Chain(ws, run_id)
        self.port = port
        self.source = self.chain.source(input_name)

    def train(self, data: Path, tags: dict[str, str], show_output: bool) -> tuple[str, Model]:
        run_id = self.chain.rerun(self.source, data)
        self.ws.store.log_batch(run_id, tags=tags)
        return run_id, self._register(run_id, f"outputs/{self.port}")


def origin_of(ws: Workspace, model: Model, input_name: str) -> Origin:
    """How ``model`` was trained; an ``InvalidInputError`` saying why it cannot be retrained."""
    from trainyard.components.runner import TAG

    if not model.run_id:
        raise InvalidInputError(
            f"{model.id} was registered from files, not from a run: there is no job to rerun; {RETRAINABLE}"
        )
    run = ws.store.get_run(model.run_id)
    made = _Artifact(run, model._record.source.split("/", 2)[2])  # runs/<id>/<path>
    if TAG in run.tags:
        return ComponentOrigin(ws, model, made, input_name)
    record = recorded_job(run)
    if record is None:
        raise InvalidInputError(
            f"{model.id} came from run {run.id}, which its own process logged (a notebook, an MLflow "
            f"client, an AutoML trial), so nothing records how to train it again; {RETRAINABLE}"
        )
    if record.type is JobKind.AUTOML:
        return AutoMLOrigin(ws, model, made, input_name)
    if record.type is JobKind.COMMAND:
        return CommandOrigin(ws, model, made, record, input_name)
    raise InvalidInputError(
        f"{model.id} came from run {run.id}, a {record.type.value} job, which made no model itself; "
        "register the model from the run that trained it (a sweep's best trial) and retrain that"
    )
