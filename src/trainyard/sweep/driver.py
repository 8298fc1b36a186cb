"""The sweep driver: the parent run's process, which starts trials and judges them.

Every fact it acts on lives in the store (the children, their params, their metric series), so a
driver that is killed and started again (the parent job's ``max_retries``) rebuilds the Optuna
study from the store and goes on: finished trials are told to the study, running ones are
re-attached, and the trial count comes from the children that exist, so no trial runs twice
and none is lost. Trial numbers carry on after the warm-start sweeps' trials (a resumed sweep's
after the sweep it resumes), and each number's configuration is drawn afresh from the seed
(``sweep.sampling``), so neither a restart nor a resume repeats what already ran.

On a Ray target the driver is a Ray job reserving no CPU, and each trial is a Ray task of it
(``compute/ray_tasks.py``, as many-models partitions are): created queued and tagged
``ray.task``, run by a task with the local worker's phases, the script in the warm Ray worker
process; at most as many at once as the cluster's free CPUs take when the sweep starts. The
policy's cancel is a cancel request that the trial's task reads with its heartbeat and stops the
script (as a many-models cancel's request is read); a trial whose task dies fails
alone, saying so. A restarted driver sends a task again for a trial its previous attempt queued
but no task took, and fails one that a lost task had started (that task died with the job).
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from typing import TYPE_CHECKING, Any, cast

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import RandomSampler
from optuna.trial import TrialState

from trainyard.compute import get_compute
from trainyard.compute.job import JobRecord
from trainyard.compute.names import in_ray_job_on
from trainyard.compute.reaper import end_tasks_of, reap
from trainyard.compute.wakeup import Waiter
from trainyard.errors import InvalidTransitionError
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import PreparedJob, job_record, start_run
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.store.queue import TASK_TAG
from trainyard.sweep.policy import describe
from trainyard.sweep.record import INTERNAL_TAG, SweepRecord
from trainyard.sweep.sampling import Sampling
from trainyard.tracking import TrackedRun, current_run

if TYPE_CHECKING:
    from trainyard.compute.ray_tasks import TaskPool

TRIAL_TAG = "sweep.trial"
POLL_SECONDS = 0.1
REAP_SECONDS = 2.0
STOPPED_EARLY_TAG = "sweep.early_terminated"  # on a trial its policy stopped: pruned, not failed
EARLY_TERMINATION = "early termination by "  # how the policy's cancel reason starts
SWEEP_CANCELED = "the sweep was canceled"  # what a SIGTERM to the driver means

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _stopped_early(child: RunInfo) -> bool:
    """A trial the early-termination policy canceled (a pruned Optuna trial, not a failed one).

    It is the run's status and cancel reason that say so, written together: a trial that the
    policy asked to stop but that ended by itself first is completed (or failed), with no reason.
    """
    return child.status == RunStatus.CANCELED and (child.cancel_reason or "").startswith(EARLY_TERMINATION)


def _finished(child: RunInfo) -> bool:
    """A warm-start trial whose configuration is done with: it ended by itself or by the policy.

    One canceled another way (the sweep's cancel or timeout) did not finish and may run again.
    """
    return child.status.is_terminal and (child.status != RunStatus.CANCELED or _stopped_early(child))


def trial_value(store: Any, run_id: str, metric: str) -> float | None:
    """A trial's result: the last value it logged for the primary metric."""
    history = store.get_metric_history(run_id, metric)
    return history[-1].value if history else None


class Driver:
    def __init__(self, run: TrackedRun) -> None:
        self.run = run
        self.ws = run.workspace
        self.store = self.ws.store
        self.info = self.store.get_run(run.id)
        record = SweepRecord.of_run(self.info)
        self.spec = record.sweep
        self.space = self.spec.space
        self.metric = self.spec.objective.primary_metric
        self.policy = self.spec.policy
        self.distributions: dict[str, BaseDistribution] = {n: p.distribution() for n, p in self.space.items()}
        self.sampling = Sampling(self.spec)
        self.capacity = self.spec.limits.max_total_trials
        self.first_number = 0  # after the warm-start sweeps' trials (rebuild counts them)
        self.study = optuna.create_study(
            direction=self.spec.objective.goal,
            sampler=RandomSampler(),  # each trial gets its own (Sampling.ask); re-attached ones are fixed
            pruner=self.policy.pruner() if self.policy else optuna.pruners.NopPruner(),
        )
        self.trials: dict[str, optuna.Trial] = {}  # active children -> their Optuna trial
        self.reported: dict[str, int] = {}
        self.stopped: set[str] = set()
        self.prepared = PreparedJob(
            CommandJob.model_validate(self.spec.trial.model_dump()),
            record.trial_environment,
            self.info.snapshot_id or "",
            self.info.experiment_id,
        )
        self.stopping = ""
        self.limit = self.spec.limits.max_concurrent_trials
        self.pool: TaskPool | None = None  # on a Ray target: the trials' tasks in flight
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def use_ray(self) -> None:
        """Run the trials as Ray tasks of this driver's Ray job, as many at once as the cluster's
        free CPUs take (and ``max_concurrent_trials`` allows); refused if a trial cannot fit."""
        from trainyard.compute.ray_tasks import (
            TaskPool,
            check_fits,
            connect_in_job,
            free_slots,
            run_task,
            task_options,
        )

        ray = connect_in_job("sweep")
        signal.signal(signal.SIGTERM, self._on_sigterm)  # Ray's own handler would just exit
        target = self.prepared.job.compute
        options = task_options(self.prepared.job.resources, self.prepared.environment.requirements)
        check_fits(ray, options, target, "each trial")
        self.pool = TaskPool(ray, run_task, options, self.ws, target)
        slots = free_slots(ray, options)
        if slots < self.limit:
            self.say(f"at most {slots} trial(s) at a time: the free CPUs of the Ray target {target!r}")
            self.limit = slots

    def _on_sigterm(self, *_: object) -> None:
        self.stopping = SWEEP_CANCELED

    def say(self, line: str) -> None:
        print(line, flush=True)

    # -- rebuilding from the store ---------------------------------------------------------------
    def _finished_trial(self, child: RunInfo, internal: dict[str, Any]) -> optuna.trial.FrozenTrial | None:
        history = self.store.get_metric_history(child.id, self.metric)
        intermediate = {m.step: m.value for m in history}
        if child.status == RunStatus.COMPLETED and history:
            state, value = TrialState.COMPLETE, history[-1].value
        elif _stopped_early(child):
            state, value = TrialState.PRUNED, None
        else:
            state, value = TrialState.FAIL, None
        try:
            return optuna.trial.create_trial(
                params=internal,
                distributions=self.distributions,
                value=value,
                intermediate_values=intermediate,
                state=state,
            )
        except ValueError:  # a warm-start sweep with another search space: skip what does not fit
            return None

    def rebuild(self) -> None:
        for old in self.spec.warm_start:
            trials = self.store.search_runs(parent_id=old)
            self.first_number += len(trials)
            for child in trials:
                if _finished(child) and INTERNAL_TAG in child.tags:
                    frozen = self._finished_trial(child, json.loads(child.tags[INTERNAL_TAG]))
                    if frozen is not None:
                        self.study.add_trial(frozen)
        own = sorted(self.store.search_runs(parent_id=self.run.id), key=lambda c: c.created_at)
        lost = [child for child in own if self._lost_task(child)]  # each of them: any() stops at the first
        if lost:
            own = sorted(self.store.search_runs(parent_id=self.run.id), key=lambda c: c.created_at)
        for child in own:
            internal = json.loads(child.tags.get(INTERNAL_TAG, "{}"))
            if child.status.is_terminal:
                self._tag_if_stopped(child)
                frozen = self._finished_trial(child, internal)
                if frozen is not None:
                    self.study.add_trial(frozen)
            else:
                self.study.enqueue_trial(internal, skip_if_exists=False)
                self.trials[child.id] = self.study.ask(self.distributions)
                self.reported[child.id] = -1
                if child.status == RunStatus.QUEUED and child.worker is None:
                    # the last driver died between recording this trial and starting it
                    if self.pool is not None and child.tags.get(TASK_TAG) == "true":
                        self.pool.send(child.id)
                    else:
                        get_compute(child.compute or "local", self.ws).submit(self.ws, child)
        if self.spec.sampling == "grid":  # grid points an earlier sweep ran are not run again
            self.capacity = min(self.capacity, len(own) + self.sampling.grid_left(self.study))
        if self.trials or self.study.trials:
            self.say(f"resumed: {len(self.study.trials)} trial(s) known, {len(self.trials)} still running")

    def _lost_task(self, child: RunInfo) -> bool:
        """Fail a trial that a Ray task of the previous driver had taken: the task died with that
        driver's job. One still queued that no task took is sent again (``rebuild``)."""
        if child.status.is_terminal or child.tags.get(TASK_TAG) != "true":
            return False
        if child.status == RunStatus.QUEUED and child.worker is None:
            return False
        lost = "its Ray task was lost with the sweep driver's previous attempt"
        return self.store.set_status(child.id, RunStatus.FAILED, error=lost, expected=child.status)

    # -- the loop ----------------------------------------------------------------------------------
    def launch(self, number: int) -> None:
        trial = self.sampling.ask(self.study, number, self.distributions)
        values = {name: self.space[name].value(trial.params[name]) for name in self.space}
        tags = {INTERNAL_TAG: json.dumps(trial.params), TRIAL_TAG: str(number)}
        if self.pool is not None:
            tags[TASK_TAG] = "true"
        child = start_run(
            self.ws,
            self.prepared,
            record=job_record(self.prepared, JobRecord, self.spec.trial_argv(values)),
            parent_id=self.run.id,
            name=f"{self.info.name}_{number}",
            tags=tags,
            params={name: str(value) for name, value in values.items()},
            reads_of=[self.run.id],  # a pipeline step's trials read what the step reads
            finish_here=None if self.pool is None else (lambda _: True),  # no worker: a task runs it
        )
        if self.pool is not None:
            self.pool.send(child.id)
        self.trials[child.id] = trial
        self.reported[child.id] = -1
        shown = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        self.say(f"trial {number} started ({child.id[:12]}): {shown}")

    def judge(self, child: RunInfo) -> None:
        """Report new metric values of a running trial; stop it if the policy says so."""
        if child.id in self.stopped:  # asked to stop already; its worker is on it
            return
        trial = self.trials[child.id]
        history = self.store.get_metric_history(child.id, self.metric)
        for point in history:
            if point.step > self.reported[child.id]:
                trial.report(point.value, point.step)
                self.reported[child.id] = point.step
        if self.policy and history and trial.should_prune():
            last = history[-1]
            value = f"{self.metric}={last.value:.6g}"
            reason = f"{EARLY_TERMINATION}{describe(self.policy)} at step {last.step}: {value}"
            self.stopped.add(child.id)
            self._cancel(child, reason)
            self.say(f"trial {child.tags.get(TRIAL_TAG)} stopped: {reason}")

    def settle(self, child: RunInfo) -> None:
        """Tell the study how a trial that just ended did."""
        trial = self.trials.pop(child.id)
        value = trial_value(self.store, child.id, self.metric)
        number = child.tags.get(TRIAL_TAG)
        if child.status == RunStatus.COMPLETED and value is not None:
            self.study.tell(trial, value)
            best = self.study.best_trial.value if self.study.best_trial else value
            self.say(f"trial {number} completed: {self.metric}={value:.6g} (best so far {best:.6g})")
            self.run.log(f"best_{self.metric}", best)
        elif self._tag_if_stopped(child):
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)
            why = child.error or f"it never logged {self.metric!r}"
            self.say(f"trial {number} {child.status.value}: {why}")

    def loop(self) -> None:
        with Waiter(self.ws.root, "child", self.run.id) as waiter:  # a trial's end wakes it at once
            self._loop(waiter)

    def _loop(self, waiter: Waiter) -> None:
        limits = self.spec.limits
        deadline = None if limits.timeout is None else self.info.created_at + limits.timeout
        last_reap = 0.0
        while True:
            # A trial whose worker died must not hang the sweep. Not in a Ray job: a trial's task
            # that dies is seen by the pool, the workspace's supervisor reaps the rest, and a
            # worker this process started (a retry's) would be stopped with the job's processes.
            if self.pool is None and time.monotonic() - last_reap > REAP_SECONDS:
                reap(self.ws)
                last_reap = time.monotonic()
            if self.pool is not None:
                self.pool.ended(0)  # a trial whose task died is failed here, saying so
            children = self.store.search_runs(parent_id=self.run.id)
            for child in children:
                if child.id in self.trials:
                    if child.status.is_terminal:
                        self.settle(child)
                    elif child.status == RunStatus.RUNNING:
                        self.judge(child)
            active = [c for c in children if not c.status.is_terminal]
            if not self.stopping and deadline is not None and time.time() > deadline:
                self.stopping = f"the sweep's timeout ({limits.timeout:g}s) was reached"
            if self.stopping == SWEEP_CANCELED and self._stopped_by_ray():
                self.stopping = "the sweep's Ray job was stopped"
            if self.stopping:
                self.say(f"stopping: {self.stopping}; canceling {len(active)} running trial(s)")
                if self.pool is not None:
                    self.pool.stop(self.stopping)
                self._cancel_all(active, self.stopping)
                return
            running, started = len(active), len(children)
            while running < self.limit and started < self.capacity:
                self.launch(self.first_number + started)
                started += 1
                running += 1
                if self.pool is not None and self._parent_ended():
                    return
            if started >= self.capacity and not running:
                return
            waiter.wait(POLL_SECONDS)

    def _stopped_by_ray(self) -> bool:
        """Whether a SIGTERM to this driver was Ray stopping its job without a cancel of the sweep
        (a retry of the sweep's lost worker replacing the job, the sweep job's own timeout)."""
        return self.pool is not None and not self.store.get_run(self.run.id).cancel_requested

    def _parent_ended(self) -> bool:
        """Whether this sweep's worker ended it (a lost cluster) as a trial was made: then the
        trials it left are ended with its reason, as its worker ended the others."""
        parent = self.store.get_run(self.run.id)
        if parent.status.is_terminal:
            end_tasks_of(self.ws, parent)
            self.stopping = parent.error or f"the sweep {parent.status.value}"
        return parent.status.is_terminal

    def _tag_if_stopped(self, child: RunInfo) -> bool:
        """Tag a trial the policy stopped, once it has ended canceled (not when the stop came late)."""
        if not _stopped_early(child):
            return False
        if STOPPED_EARLY_TAG not in child.tags:
            self.store.log_batch(child.id, tags={STOPPED_EARLY_TAG: "true"})
        return True

    def _cancel(self, child: RunInfo, reason: str) -> None:
        with contextlib.suppress(InvalidTransitionError):  # it may have ended on its own meanwhile
            if child.tags.get(TASK_TAG) == "true":
                # Its task's heartbeat reads the request and stops the script (within
                # heartbeat_seconds); no SIGTERM to the Ray worker process, which may have moved
                # on to another trial's task by the time the signal lands.
                self.store.request_cancel(child.id, reason)
            else:
                get_compute(child.compute or "local", self.ws).cancel(self.ws, child, reason)

    def _cancel_all(self, active: list[RunInfo], reason: str, wait: float = 20.0) -> None:
        for child in active:
            self._cancel(child, reason)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all(self.store.get_run(c.id).status.is_terminal for c in active):
                return
            time.sleep(POLL_SECONDS)

    def finish(self) -> None:
        """Record the leaderboard on the parent; fail it if no trial ever logged the metric."""
        children = sorted(
            self.store.search_runs(parent_id=self.run.id), key=lambda c: int(c.tags.get(TRIAL_TAG, 0))
        )
        rows = []
        for child in children:
            rows.append(
                {
                    "trial": int(child.tags.get(TRIAL_TAG, 0)),
                    "run_id": child.id,
                    "status": child.status.value,
                    self.metric: child.metrics.get(self.metric),
                    **child.params,
                }
            )
        if rows:
            self.run.log_table("trials", {key: [row.get(key) for row in rows] for key in rows[0]})
        scored = [r for r in rows if r["status"] == "completed" and r[self.metric] is not None]
        if not scored:
            logged = sorted({k for c in children for k in c.metrics})
            if self.stopping:
                return
            self.run.fail(
                f"no trial logged the primary metric {self.metric!r}"
                + (
                    f"; the trials logged: {', '.join(logged)}"
                    if logged
                    else "; the trials logged no metrics"
                )
            )
            return
        pick = max if self.spec.objective.goal == "maximize" else min
        best = pick(scored, key=lambda r: cast(float, r[self.metric]))  # scored: the metric is there
        self.run.set_tags({"sweep.best_run_id": best["run_id"], "sweep.best_value": best[self.metric]})
        self.say(f"best: trial {best['trial']} ({best['run_id']}) {self.metric}={best[self.metric]:.6g}")


def main() -> None:
    run = current_run(TrackedRun)
    driver = Driver(run)
    if in_ray_job_on(driver.prepared.job.compute):  # the trials' target runs this driver's Ray job
        driver.use_ray()
    driver.rebuild()
    spec = driver.spec
    policy = describe(driver.policy) if driver.policy else "none"
    driver.say(
        f"sweep: {spec.sampling} sampling of {', '.join(driver.space)}; {spec.objective.goal} "
        f"{spec.objective.primary_metric}; policy {policy}; up to {driver.capacity} trials, "
        f"{driver.limit} at a time" + (" as Ray tasks" if driver.pool is not None else "")
    )
    driver.loop()
    driver.finish()
    run.flush()


if __name__ == "__main__":
    main()
