"""Many models on a Ray target: each partition runs as a Ray task of the driver's one job.

The tasks and what runs in them are ``compute/ray_tasks.py``'s (shared with a sweep's trials):
each partition's child run is created queued, tagged ``ray.task``, and run by a task asking for
the partition job's ``resources``, with the local worker's phases, the script in the warm Ray
worker process. Then the task registers the partition's model, so the driver's own work per
partition is its run's creation. A task that dies fails its partition alone, saying so; when the
driver's job ends with partitions still active, the parent's worker ends them with its reason.

An AutoML partition's task runs AutoML's driver (``python -m trainyard.automl``, a subprocess of
the task), its trials in that driver's pool, one on each of the task's CPUs at most; the driver
registers the model itself.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trainyard.compute.job import JobResources
from trainyard.compute.ray_tasks import (
    TaskPool,
    TaskWorker,
    check_fits,
    connect_in_job,
    free_slots,
    task_options,
    task_workspace,
)
from trainyard.compute.reaper import end_tasks_of
from trainyard.manymodels.driver import Outcome, register_model
from trainyard.manymodels.keys import key_text
from trainyard.status import RunStatus

if TYPE_CHECKING:
    from trainyard.manymodels.driver import Driver

POLL_SECONDS = 0.5


def run_partition(ws_root: str, run_id: str, target: str, model_name: str) -> str:
    """The Ray task: run a partition's queued run, register its model; what the driver prints."""
    ws = task_workspace(ws_root)
    worker = TaskWorker(ws, run_id, target)
    worker.claim_and_run()
    child = ws.store.get_run(run_id)
    model = register_model(ws, child, model_name, fresh=worker.ran)
    if model is not None:
        return f"completed {model}"
    outcome = Outcome.of(ws.store.get_run(run_id) if child.status == RunStatus.COMPLETED else child, None)
    return f"{outcome.status} {outcome.error or ''}".rstrip()


def run_automl_partition(ws_root: str, run_id: str, target: str) -> str:
    """The Ray task of an AutoML partition: run its queued run; what the driver prints."""
    ws = task_workspace(ws_root)
    TaskWorker(ws, run_id, target).claim_and_run()
    outcome = Outcome.of(ws.store.get_run(run_id), None)
    return f"{outcome.status} {outcome.model or outcome.error or ''}".rstrip()


class TaskDispatch:
    """The driver's loop on a Ray target: up to ``max_concurrent_partitions`` tasks in flight."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.group = driver.group
        self.ws = driver.group.ws

    def loop(self) -> None:
        ray = connect_in_job("many-models")
        signal.signal(signal.SIGTERM, self.driver.on_sigterm)  # Ray's own handler would just exit
        group, ws = self.group, self.ws
        script = group.script
        task: Callable[..., str]
        args: tuple[str, ...]
        if script is not None:
            options = task_options(script.job.resources, script.environment.requirements)
            task, args = run_partition, (group.settings.group_model_name,)
        else:
            options = task_options(group.settings.resources or JobResources(), ())
            task, args = run_automl_partition, ()
        check_fits(ray, options, group.settings.compute)
        pool = TaskPool(ray, task, options, ws, group.settings.compute)
        limit = group.settings.max_concurrent_partitions
        cpus = max(1, int(options["num_cpus"]))  # an AutoML partition's trials: one on each at most
        if script is None:  # AutoML's budget runs from its run's creation: none may wait for a CPU
            limit = min(limit, free_slots(ray, options))
        todo = self._todo()
        keys: dict[str, str] = {}  # run id -> partition key
        while todo or pool:
            if self.driver.stopping:
                self.driver.say(f"stopping: {self.driver.stopping}; canceling {len(pool)} partition run(s)")
                pool.stop(self.driver.stopping)
                return
            batch = todo[: max(0, limit - len(pool))]
            if batch:  # created in one store call; the parent read once for them
                del todo[: len(batch)]
                children = (
                    group.queue_tasks(batch)
                    if script is not None
                    else [group.launch(partition, attempt, task_cpus=cpus) for partition, attempt in batch]
                )
                parent = ws.store.get_run(group.parent.id)
                if parent.status.is_terminal:  # its worker ended it (a lost cluster) as these runs were made
                    end_tasks_of(ws, parent)
                    return
                for child, (partition, _) in zip(children, batch, strict=True):
                    if child.status.is_terminal:  # AutoML refused its rows
                        self.driver.say(f"failed at once: {child.error}")  # it names the partition
                        continue
                    pool.send(child.id, *args)
                    keys[child.id] = key_text(partition.values)
            for run_id, line in pool.ended(POLL_SECONDS):
                self.driver.say(f"partition {keys.pop(run_id)}: {line}")

    def _todo(self) -> list[tuple[Any, int]]:
        """The partitions to run, each with its attempt: those without a run, and those whose
        task was lost with a previous attempt of this driver (failed now, saying so)."""
        todo = []
        for partition, runs in zip(self.group.partitions, self.group.children().values(), strict=True):
            latest = runs[-1] if runs else None
            if latest is not None and not latest.status.is_terminal:
                lost = "its Ray task was lost with the many-models driver's previous attempt"
                self.ws.store.set_status(latest.id, RunStatus.FAILED, error=lost, expected=latest.status)
            elif latest is not None:
                continue
            todo.append((partition, len(runs) + 1))
        return todo
