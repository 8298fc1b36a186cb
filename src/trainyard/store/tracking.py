"""The tracking part of the Store: experiments, runs, their metrics, params and tags, environments.

Environments live here rather than in a part of their own: a run names the environment it ran
in, the four calls are all there is to them, and every backend stores them next to the runs.

Contract, beyond each method's docstring:

* Metrics append and are never overwritten; tags overwrite; params are write-once (the same
  value again is accepted, a different one is an ``InvalidInputError``).
* Status changes follow ``trainyard.status.ALLOWED`` and are compare-and-set: a terminal run
  is never changed again, whoever asks.
* NaN, +/-inf are stored and returned exactly.
* Runs and experiments are never lost once a create call returned.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from trainyard.deletion import DELETED, DELETED_TAG, RunView
from trainyard.errors import AlreadyExistsError
from trainyard.limits import MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH
from trainyard.status import RunStatus
from trainyard.store.records import (
    EnvironmentRecord,
    Experiment,
    Metric,
    MetricSeries,
    NewRun,
    RunInfo,
    RunPage,
)
from trainyard.store.validation import check_labels


class TrackingStore(abc.ABC):
    """Experiments, runs and what runs log. See the module docstring for the contract."""

    # experiments -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        """A new experiment named ``name`` with ``tags``.

        ``AlreadyExistsError`` if the name is taken (by a deleted experiment too);
        ``InvalidInputError`` for an empty, over-long or NUL-holding name.
        """

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id (deleted or not); ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment named ``name`` (deleted or not), or ``None``; raises nothing."""

    @abc.abstractmethod
    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        """Every experiment, oldest first; deleted ones only with ``include_deleted``."""

    @abc.abstractmethod
    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        deleted: bool | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> Experiment:
        """Rename, soft-delete or restore (``deleted``), and set tags (a ``None`` value deletes the tag).

        A deleted experiment keeps its runs and its name (no other experiment may take it) until
        it is restored; ``None`` arguments leave their field as it is. Returns the experiment
        after the change. ``NotFoundError`` for an unknown id, ``AlreadyExistsError`` for a
        name that is taken, ``InvalidInputError`` for a bad name or tag.
        """

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment named ``name``, created if missing; two processes asking at once get one."""
        found = self.get_experiment_by_name(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name)
        except AlreadyExistsError:
            found = self.get_experiment_by_name(name)
            assert found is not None
            return found

    # runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        status: RunStatus = RunStatus.QUEUED,
        compute: str | None = None,
        job: dict[str, Any] | None = None,
        snapshot_id: str | None = None,
        environment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RunInfo:
        """A new run in ``status`` (a ``running`` one has its start time), named its id's start if unnamed.

        A child run not given a user (the tag ``USER_TAG``, MLflow's ``mlflow.user``) has its
        parent's, so a sweep's trials and a pipeline's steps are their submitter's (a team server
        sets a root run's from the caller's token). ``NotFoundError`` if the experiment or the
        parent does not exist; ``InvalidInputError`` for a bad tag.
        """

    def create_runs(self, runs: Sequence[NewRun]) -> list[RunInfo]:
        """The ``runs``, queued, with their tags and params, in their order, as ``create_run``
        makes each (a child has its parent's user). One transaction in a store that has them (a
        thousand many-models partitions cost one write, not two thousand); all are checked before
        any is written, so a bad tag or param (``InvalidInputError``) or an unknown experiment or
        parent (``NotFoundError``) creates none.
        """
        for new in runs:
            check_labels("tag", new.tags, MAX_TAG_VALUE_LENGTH)
            check_labels("param", new.params, MAX_PARAM_VALUE_LENGTH)
        if len(runs) > 1:  # one run's create checks its experiment and parent itself
            for experiment_id in {new.experiment_id for new in runs}:
                self.get_experiment(experiment_id)
            for parent_id in {new.parent_id for new in runs if new.parent_id is not None}:
                self.get_run(parent_id)
        made = []
        for new in runs:
            info = self.create_run(
                new.experiment_id,
                name=new.name,
                parent_id=new.parent_id,
                compute=new.compute,
                job=new.job,
                snapshot_id=new.snapshot_id,
                environment=new.environment,
                tags=new.tags,
            )
            if new.params:  # a new run has no params but these: no read back
                self.log_batch(info.id, params=new.params)
                info = replace(info, params=dict(new.params))
            made.append(info)
        return made

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunInfo:
        """The run with params, tags and latest metrics; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        *,
        statuses: Iterable[RunStatus] | None = None,
        parent_id: str | None = None,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        view: RunView = RunView.ALL,
    ) -> RunPage:
        """Runs newest first (or by ``order_by``), with params, tags and latest metrics filled in.

        ``filter_string`` and ``order_by`` use MLflow's grammar (``trainyard.store.search``);
        with ``max_results`` the result is one page, and its ``next_page_token`` fetches the next.
        ``view`` picks deleted runs (``trainyard.deletion``) in or out before paging; the default
        is every run, as the drivers and the reaper need. ``InvalidInputError`` for a filter,
        order or page token that does not parse, or a ``max_results`` out of range.
        """

    @abc.abstractmethod
    def find_run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        """Ids starting with ``prefix`` (at most ``limit``): how short ids typed by people resolve."""

    @abc.abstractmethod
    def count_runs(self, experiment_id: str, *, view: RunView = RunView.ALL) -> int:
        """How many runs (children included) the experiment holds, of those ``view`` shows (a
        count for people leaves the deleted ones out, as their searches do); 0 for an unknown id."""

    @abc.abstractmethod
    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        worker: str | None = None,
        expected: RunStatus | None = None,
    ) -> bool:
        """Move the run to ``status``, recording ``error``, ``exit_code`` and ``worker``; compare-and-set.

        A run that ends ``completed`` or ``failed`` ended by itself, so a cancel asked of it
        too late is dropped in the same write (no ``cancel_reason``): status and reason agree.
        Returns False (and changes nothing) when the run is no longer in ``expected`` (if
        given) or already terminal; raises ``InvalidTransitionError`` for a move the table
        forbids from the current status, ``NotFoundError`` for an unknown run.
        """

    @abc.abstractmethod
    def requeue(self, run_id: str, expected: RunStatus, error: str) -> bool:
        """Put a run whose worker was lost back in the queue, counting the attempt.

        The new attempt starts with no latest metrics (``RunInfo.metrics``); what the earlier one
        logged stays in its history (``get_metric_history(attempt=)``).

        Returns False (changing nothing) when the run is no longer in ``expected``;
        ``InvalidTransitionError`` when ``expected`` may not go back to ``queued``.
        """

    @abc.abstractmethod
    def heartbeat(self, run_id: str, worker: str | None = None) -> bool:
        """Record that the run's worker (``host:pid:start``) is alive; True if a cancel was requested."""

    @abc.abstractmethod
    def request_cancel(self, run_id: str, reason: str | None = None) -> RunInfo:
        """Ask the run's worker to stop (a queued run is canceled at once), keeping ``reason``.

        The reason (who asked and why: a user, a sweep's early termination) is the run's
        ``cancel_reason`` and what a canceled run reports: a queued run canceled here gets it as
        its error in the same write (a started one from its worker). Returns the run after the request;
        ``InvalidTransitionError`` for a run that already ended, ``NotFoundError`` for an
        unknown one, ``InvalidInputError`` for an over-long reason.
        """

    @abc.abstractmethod
    def set_run_error(self, run_id: str, error: str | None) -> None:
        """Record a failure reported by the script itself (run.fail) while it still runs; None clears it."""

    # metrics, params, tags -----------------------------------------------------------------
    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        *,
        batch_id: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """Append metrics, set params (write-once) and tags (overwrite), all or nothing.

        Metrics are kept under ``attempt`` (the writer's: a job's script logs under the attempt
        its worker started), else under the run's attempt as it is now, so a retried job's
        attempts keep their series apart, even when a lost worker's script writes late; only the
        run's current attempt updates its latest metrics. ``batch_id`` (any string up to 200
        characters, unique to this batch: a client makes one per batch and keeps it across its
        retries) is recorded with the batch in the same transaction: the same id again within a day
        (``store.server.IDEMPOTENCY_TTL_SECONDS``) writes nothing and succeeds, so a batch
        re-sent after a lost reply, even one lost in a server crash, is stored once.
        ``NotFoundError`` for an unknown run; ``InvalidInputError`` for a bad name, an over-long
        value or batch id, an attempt the run has not made or a param changed to another value,
        with nothing written.
        """

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """One value: the batch path with one item, so a backend implements batches only."""
        self.log_batch(run_id, metrics=[metric])

    @abc.abstractmethod
    def get_metric_history(
        self, run_id: str, key: str | None = None, *, attempt: int | None = None
    ) -> list[Metric]:
        """Every value logged (of ``key``, or all), sorted by key, then step, then timestamp.

        Of the run's last attempt, or of ``attempt`` (1 is the first). ``NotFoundError`` for an
        unknown run; ``InvalidInputError`` for an attempt the run has not made.
        """

    @abc.abstractmethod
    def get_metric_series(
        self,
        run_id: str,
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        attempt: int | None = None,
    ) -> MetricSeries:
        """The values of ``key`` logged at steps ``min_step`` to ``max_step`` (each bound optional),
        at most ``points`` of them, in step order (then time): what a chart that wide draws.

        With at most ``points`` such values, all of them, exactly (``exact``). Else the steps are
        cut into at most ``points // 2 - 1`` ranges of equal width (whole steps; the SQL stores
        start a long series' ranges at a block of 64 steps and make them whole blocks wide, a
        series being long when that keeps at least half the ranges: fewer ranges then), and
        each range gives the smallest and the largest of its finite values; the first and the
        last value are kept too. Every value returned was logged at the step and time returned
        with it, so spikes survive (the min/max half of M4). ``total`` counts the values between
        the steps. The cut is made where the values are (the database), and the SQL stores make
        it from summaries kept per block as values are logged, so a series of millions reads a
        fraction of its rows. ``NotFoundError`` for an unknown run; ``InvalidInputError`` for ``points``
        outside ``limits.MIN_SERIES_POINTS`` to ``MAX_SERIES_POINTS`` or an attempt the run has not
        made.
        """

    def get_metric_series_of_runs(
        self,
        run_ids: Sequence[str],
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]:
        """``get_metric_series`` of each run (its last attempt), in the order of ``run_ids``, each
        cut exactly as that cuts it: what a compare chart draws. The SQL stores read all the runs
        in a few queries (every long series from its blocks' summaries, every short one's rows
        in one query) rather than a few per run; this default asks run by run. ``NotFoundError``
        naming the first unknown run; ``InvalidInputError`` for ``points`` out of bounds."""
        return [self.get_metric_series(r, key, points, min_step=min_step, max_step=max_step) for r in run_ids]

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove the run's tag ``key``; a tag that is not there is no error."""

    @abc.abstractmethod
    def update_run_tags(self, run_ids: Sequence[str], tags: dict[str, str | None]) -> None:
        """Set (a value) or remove (``None``) ``tags`` on every run of ``run_ids``, all or nothing.

        ``NotFoundError`` naming every unknown id, ``InvalidInputError`` for a bad tag, an empty
        list or more than ``limits.MAX_BULK_RUNS`` runs, with nothing changed.
        """

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        """Soft-delete the runs (``trainyard.deletion``): searches leave them out until restored."""
        self.update_run_tags(run_ids, {DELETED_TAG: DELETED})

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        """Bring deleted runs back into searches; a run that is not deleted is left as it is."""
        self.update_run_tags(run_ids, {DELETED_TAG: None})

    # environments --------------------------------------------------------------------------
    @abc.abstractmethod
    def register_environment(self, name: str, spec: dict[str, Any], spec_hash: str) -> EnvironmentRecord:
        """Store a spec under ``name`` as its next version; the same spec again returns the existing one.

        ``InvalidInputError`` for a bad name.
        """

    @abc.abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        """``version`` of ``name``, or its newest; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]:
        """Every version of every environment, by name then version."""
