"""The many-models driver: the parent run's process. It keeps up to ``max_concurrent_partitions``
partition runs going (each an AutoML job or the user's script as a command job, a child of the
parent), registers each script's model as a version of the group's model name with its
partition as tags, and logs the leaderboard. A partition that fails fails alone.

It keeps no state of its own: each pass reads the parent's children (each tagged with its
partition), so a driver restarted after its worker was lost goes on where it was. ``retry``
starts a partition again after the parent has ended, and logs the leaderboard anew.
"""

from __future__ import annotations

import contextlib
import io
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from trainyard.compute import get_compute
from trainyard.compute.job import JobRecordError
from trainyard.compute.reaper import reap
from trainyard.errors import InvalidInputError, InvalidTransitionError, NotFoundError, TrainyardError
from trainyard.jobs.snapshot import blob_key, read_manifest
from trainyard.jobs.spec import PathInput
from trainyard.jobs.submit import PreparedJob, new_run, queue_runs, start_run
from trainyard.jobs.uploads import SCHEME
from trainyard.manymodels.keys import (
    GROUP_TAG,
    MODEL_TAG,
    PARTITION_TAG,
    TAG_PREFIX,
    key_text,
    model_tags,
    parse_key,
)
from trainyard.manymodels.record import ManyModelsRecord, Partition, PreparedScript
from trainyard.manymodels.spec import DATA_INPUT, MODEL_OUTPUT, ManyModelsSettings
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.store.queue import TASK_TAG
from trainyard.tracking import TrackedRun

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

POLL_SECONDS = 0.5
REAP_SECONDS = 2.0
ERROR_TAG = "many_models.error"  # on a script partition's run that completed without a model
ATTEMPT_TAG = "many_models.attempt"


@dataclass
class Group:
    """A many-models parent run and what it trains; what the driver and ``retry`` share."""

    ws: Workspace
    parent: RunInfo
    settings: ManyModelsSettings
    partitions: list[Partition]
    script: PreparedScript | None

    @classmethod
    def of_run(cls, ws: Workspace, run_id: str) -> Group:
        parent = ws.store.get_run(run_id)
        try:
            record = ManyModelsRecord.of_run(parent)
        except JobRecordError:
            raise InvalidInputError(f"run {run_id} is not a many-models run") from None
        return cls(ws, parent, record.many_models, record.partitions, record.script)

    # -- the partitions' runs ----------------------------------------------------------------------
    def children(self) -> dict[str, list[RunInfo]]:
        """Each partition's runs, oldest first, by partition key."""
        runs: dict[str, list[RunInfo]] = {key_text(p.values): [] for p in self.partitions}
        for child in sorted(self.ws.store.search_runs(parent_id=self.parent.id), key=lambda c: c.created_at):
            key = child.tags.get(PARTITION_TAG)
            if key in runs:
                runs[key].append(child)
        return runs

    def latest(self) -> dict[str, RunInfo | None]:
        return {key: runs[-1] if runs else None for key, runs in self.children().items()}

    def partition(self, text: str) -> Partition:
        values = parse_key(text, self.settings.partition_column_names)
        for p in self.partitions:
            if p.values == values:
                return p
        known = ", ".join(key_text(p.values) for p in self.partitions[:10])
        raise InvalidInputError(f"run {self.parent.id} has no partition {key_text(values)}; it has {known}")

    def launch(self, partition: Partition, attempt: int = 1, *, task_cpus: int | None = None) -> RunInfo:
        """Start the partition's run; one whose rows AutoML refuses is recorded failed at once.
        ``task_cpus`` (AutoML): only create its run, queued, on the target, for a Ray task of the
        driver with that many CPUs to run, a trial on each at most (script partitions' task runs
        are ``queue_tasks``')."""
        as_task = task_cpus is not None
        name, tags = self._labels(partition, attempt)
        versions = {**model_tags(partition.values), GROUP_TAG: self.parent.id}
        key = tags[PARTITION_TAG]
        if as_task:
            tags[TASK_TAG] = "true"
        if self.script is not None:
            prepared = self._script_job(partition, name)
            return start_run(
                self.ws, prepared, parent_id=self.parent.id, name=name, tags=tags, reads_of=[self.parent.id]
            )
        from trainyard.automl.submit import submit_automl

        try:
            rows = read_partition(self.ws, partition).drop(columns=self.settings.partition_column_names)
            return submit_automl(
                self.ws,
                self.settings.automl(versions, task_cpus),
                rows,
                self.settings.experiment_name,
                tags=tags,
                parent_id=self.parent.id,
                name=name,
                reads_of=[self.parent.id],
                compute=self.settings.compute if as_task else "local",
                finish_here=(lambda _: True) if as_task else None,
            )
        except InvalidInputError as exc:
            info = self.ws.store.create_run(
                self.parent.experiment_id,
                name=name,
                parent_id=self.parent.id,
                compute=self.settings.compute,
                tags=tags,
            )
            self.ws.store.set_status(
                info.id, RunStatus.FAILED, error=f"partition {key}: {exc}", expected=RunStatus.QUEUED
            )
            return self.ws.store.get_run(info.id)

    def queue_tasks(self, todo: Sequence[tuple[Partition, int]]) -> list[RunInfo]:
        """Create the script runs of ``todo``'s partitions (each with its attempt), queued and
        tagged for Ray tasks of the driver to run, in one store call."""
        runs = []
        for partition, attempt in todo:
            name, tags = self._labels(partition, attempt)
            prepared = self._script_job(partition, name)
            new = new_run(prepared, parent_id=self.parent.id, name=name, tags={**tags, TASK_TAG: "true"})
            runs.append((prepared.job, new))
        return queue_runs(self.ws, runs, reads_of=[self.parent.id])

    def _labels(self, partition: Partition, attempt: int) -> tuple[str, dict[str, str]]:
        """A partition's run name and tags: its key, attempt, ``partition.*`` and group."""
        key = key_text(partition.values)
        name = f"{self.parent.name}_{key}" + (f"_{attempt}" if attempt > 1 else "")
        tags = {PARTITION_TAG: key, ATTEMPT_TAG: str(attempt), **model_tags(partition.values)}
        return name, {**tags, GROUP_TAG: self.parent.id}

    def _script_job(self, partition: Partition, name: str) -> PreparedJob:
        """The script's job with the partition's rows as its data input."""
        assert self.script is not None
        inputs = {**self.script.job.inputs, DATA_INPUT: PathInput(type="uri_file", path=partition.data)}
        job = self.script.job.model_copy(update={"inputs": inputs, "display_name": name})
        return PreparedJob(job, self.script.environment, self.script.snapshot_id, self.parent.experiment_id)

    def settle(self, child: RunInfo) -> None:
        """Register a script partition's model once its run completed (AutoML registers its own)."""
        if self.script is not None:
            register_model(self.ws, child, self.settings.group_model_name)

    # -- the summary ---------------------------------------------------------------------------------
    def leaderboard(self) -> dict[str, list[Any]]:
        """One row per partition (its latest run): its values, status, metric and model version."""
        metric = self.settings.metric_name
        rows = []
        for partition, (key, runs) in zip(self.partitions, self.children().items(), strict=True):
            child = runs[-1] if runs else None
            outcome = Outcome.of(child, metric)
            rows.append(
                {
                    **partition.values,
                    "partition": key,
                    "rows": partition.rows,
                    "status": outcome.status,
                    "attempts": len(runs),
                    **({metric: outcome.value} if metric else {}),
                    "model": outcome.model,
                    "run_id": child.id if child else None,
                    "error": outcome.error,
                }
            )
        return {c: [r[c] for r in rows] for c in rows[0]}

    def log_summary(self, run: TrackedRun) -> list[str]:
        """Log the leaderboard and counts on the parent; returns the partitions without a model."""
        table = self.leaderboard()
        run.log_table("leaderboard", table)
        failed = [k for k, s in zip(table["partition"], table["status"], strict=True) if s != "completed"]
        run.set_tags(
            {
                "many_models.completed": len(self.partitions) - len(failed),
                "many_models.failed": len(failed),
            }
        )
        return failed


@dataclass(frozen=True)
class Outcome:
    """How a partition's latest run ended, as the leaderboard shows it."""

    status: str
    model: str | None
    value: float | None
    error: str | None

    @classmethod
    def of(cls, child: RunInfo | None, metric: str | None) -> Outcome:
        if child is None:
            return cls("not started", None, None, None)
        tags = child.tags
        if "automl.task" in tags:  # AutoML's parent: it tags its model and best value itself
            model = tags.get("automl.model")
            value = float(tags["automl.best_value"]) if "automl.best_value" in tags else None
        else:
            model = tags.get(MODEL_TAG)
            value = child.metrics.get(metric) if metric else None
        status = child.status.value
        error = child.error or tags.get(ERROR_TAG)
        if child.status == RunStatus.COMPLETED and model is None:
            status = "failed"
            error = error or "completed without a registered model"
        return cls(status, model, value, error)


def register_model(ws: Workspace, child: RunInfo, name: str, *, fresh: bool = False) -> str | None:
    """Register a completed script partition's ``outputs/model`` as the next version of ``name``,
    with the partition's tags; tag the run with the version (returned: ``name:version``), or with
    why it has none. Done once: a run tagged either way is left alone, and a version of the run
    (a driver lost after registering, before tagging) is the one. ``fresh``: the run completed in
    this process just now, so no version of it can exist yet (none is looked for among the
    group's versions, which a thousand partitions make a thousand)."""
    if child.status != RunStatus.COMPLETED or MODEL_TAG in child.tags or ERROR_TAG in child.tags:
        return child.tags.get(MODEL_TAG)
    from trainyard.registry import Model

    try:
        done = [] if fresh else [v for v in ws.store.list_model_versions(name) if v.run_id == child.id]
    except NotFoundError:  # the group's first version
        done = []
    try:
        version = (
            done[0].version
            if done  # a driver lost after registering, before tagging
            else Model.register_from_run(
                ws,
                child.id,
                name,
                f"outputs/{MODEL_OUTPUT}",
                tags={k: v for k, v in child.tags.items() if k.startswith(TAG_PREFIX) or k == GROUP_TAG},
            ).version
        )
    except NotFoundError:
        ws.store.log_batch(child.id, tags={ERROR_TAG: "the script wrote no model to ${{outputs.model}}"})
        return None
    ws.store.log_batch(child.id, tags={MODEL_TAG: f"{name}:{version}"})
    return f"{name}:{version}"


def read_partition(ws: Workspace, partition: Partition) -> pd.DataFrame:
    """A partition's rows, from the file the submitter stored."""
    snapshot_id, _, name = partition.data.removeprefix(SCHEME).partition("/")
    data = io.BytesIO(ws.artifacts.get_bytes(blob_key(read_manifest(snapshot_id, ws.artifacts)[name])))
    return pd.read_csv(data) if name.endswith(".csv") else pd.read_parquet(data)


# -- the driver --------------------------------------------------------------------------------------
class Driver:
    def __init__(self, run: TrackedRun) -> None:
        self.run = run
        self.group = Group.of_run(run.workspace, run.id)
        self.stopping = ""
        signal.signal(signal.SIGTERM, self.on_sigterm)

    def on_sigterm(self, *_: object) -> None:
        self.stopping = "the many-models run was canceled"

    def say(self, line: str) -> None:
        print(line, flush=True)

    def loop(self) -> None:
        group, ws = self.group, self.group.ws
        limit = group.settings.max_concurrent_partitions
        todo = {key_text(p.values): p for p in group.partitions}
        settled: set[str] = set()
        last_reap = 0.0
        while True:
            if time.monotonic() - last_reap > REAP_SECONDS:  # a partition whose worker died must not hang
                reap(ws)
                last_reap = time.monotonic()
            latest = group.latest()
            for key, child in latest.items():
                if child is not None and child.status.is_terminal and child.id not in settled:
                    group.settle(child)
                    settled.add(child.id)
                    outcome = Outcome.of(ws.store.get_run(child.id), group.settings.metric_name)
                    detail = outcome.model or outcome.error or ""
                    self.say(f"partition {key}: {outcome.status} {detail}".rstrip())
            active = [c for c in latest.values() if c is not None and not c.status.is_terminal]
            if self.stopping:
                self.say(f"stopping: {self.stopping}; canceling {len(active)} partition run(s)")
                for child in active:
                    with contextlib.suppress(InvalidTransitionError):  # it may have ended meanwhile
                        get_compute(child.compute or "local", ws).cancel(ws, child, self.stopping)
                return
            waiting = [todo[k] for k, c in latest.items() if c is None]
            for partition in waiting[: max(0, limit - len(active))]:
                child = group.launch(partition)
                self.say(
                    f"partition {key_text(partition.values)} started ({child.id[:12]}, {partition.rows} rows)"
                )
            if not waiting and not active:
                return
            time.sleep(POLL_SECONDS)

    def finish(self) -> None:
        failed = self.group.log_summary(self.run)
        total = len(self.group.partitions)
        self.say(
            f"{total - len(failed)} of {total} partition(s) have a model "
            f"({self.group.settings.group_model_name})"
        )
        if failed and not self.stopping:
            shown = " ".join(f"--partition {k}" for k in failed[:5])
            self.run.fail(
                f"{len(failed)} of {total} partition(s) failed: {', '.join(failed[:10])}; "
                f"retry them with: trainyard many-models retry {self.run.id} {shown}"
            )


def retry(
    ws: Workspace,
    run_id: str,
    keys: list[str],
    settings: ManyModelsSettings | None = None,
    timeout_seconds: float | None = None,
) -> list[RunInfo]:
    """Train ``keys``' partitions of an ended many-models run again (with ``settings`` from a
    fixed spec: its script snapshotted anew, else as recorded), wait for them, register their
    models and log the leaderboard anew on the parent; returns the partitions' new runs as they ended.
    """
    group = Group.of_run(ws, run_id)
    if not group.parent.status.is_terminal:
        raise InvalidInputError(
            f"many-models run {run_id} is still {group.parent.status.value}; "
            "retry partitions once it has ended"
        )
    if settings is not None:
        if settings.partition_column_names != group.settings.partition_column_names:
            raise InvalidInputError(
                "the spec's partition_column_names differ from the run's "
                f"({', '.join(group.settings.partition_column_names)}); a retry trains the same partitions"
            )
        if settings.kind != group.settings.kind:
            raise InvalidInputError(
                f"run {run_id} trained with {group.settings.kind}; the spec uses {settings.kind}"
            )
    wanted = [group.partition(k) for k in keys]
    if not wanted:
        raise InvalidInputError("name the partition(s) to retry, e.g. --partition store=3")
    if settings is not None:
        from trainyard.manymodels.submit import prepare_script

        script = None if settings.command is None else prepare_script(ws, settings, wanted[0].data)
        group.settings, group.script = settings, script
    children = group.children()
    started = []
    for partition in wanted:
        key = key_text(partition.values)
        runs = children[key]
        outcome = Outcome.of(runs[-1] if runs else None, None)
        if outcome.status == "completed":
            raise InvalidInputError(
                f"partition {key} already has its model {outcome.model}; nothing to retry"
            )
        if runs and not runs[-1].status.is_terminal:
            raise InvalidInputError(f"partition {key} is still {runs[-1].status.value}")
    for partition in wanted:
        started.append(group.launch(partition, attempt=len(children[key_text(partition.values)]) + 1))
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    ended = []
    for child in started:
        while not (info := ws.store.get_run(child.id)).status.is_terminal:
            if deadline is not None and time.monotonic() > deadline:
                raise TrainyardError(
                    f"run {child.id} is still {info.status.value} after {timeout_seconds:g}s"
                )
            reap(ws)
            time.sleep(POLL_SECONDS)
        group.settle(info)
        ended.append(ws.store.get_run(child.id))
    group.log_summary(TrackedRun(ws, run_id))
    return ended
