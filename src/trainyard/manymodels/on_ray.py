"""Many models on a Ray target: each script partition runs as a Ray task of the driver's one job.

A Ray job per partition would start a job driver process each (seconds); a task takes
milliseconds. The many-models driver is itself a Ray job on the target (reserving no CPU,
``ray_worker.job_cpus``). It creates each partition's child run queued, tagged ``ray.task``, and
sends a task asking for the partition job's ``resources`` (one CPU by default). The task runs
the child with the local worker's own phases (``TaskWorker``): claim, snapshot restore, the
partition's rows as ``${{inputs.data}}``, heartbeat, ``./outputs`` uploaded, finish. So its
status, log, metrics and files land where a Ray job's would, through the workspace's path.
Then the task registers the partition's model, so the driver's own work per partition is its
run's creation.

A ``python script.py`` command runs inside the task's Ray worker process, which stays warm
between tasks: trainyard, pandas and scikit-learn are imported once per worker, not once per
partition. Any other command runs as a subprocess of the task. A cancel (its SIGTERM to the
worker process, or the cancel request a heartbeat reads) and the job's timeout (SIGALRM) stop the
script where it is; a SIGTERM without a cancel request is Ray stopping its worker, and the run is
left to its parent to end with the reason. A task that dies (its worker killed) fails its
partition alone, saying so.
When the driver's job ends with partitions still active (canceled, killed, or the cluster
lost), the parent's worker ends them with the parent's reason (``RayWorker._finish``).
"""

from __future__ import annotations

import _thread
import contextlib
import os
import runpy
import signal
import sys
import threading
import traceback
from types import FrameType
from typing import TYPE_CHECKING, Any

from trainyard.compute import get_compute
from trainyard.compute.base import CANCELED_BY_USER
from trainyard.compute.job import JobRecord
from trainyard.compute.ray_target import _first_line
from trainyard.compute.ray_worker import DEFAULT_CPUS, cluster_environment
from trainyard.compute.reaper import end_tasks_of
from trainyard.compute.worker import NO_SLOT, Worker
from trainyard.errors import InvalidInputError, InvalidTransitionError, TrainyardError
from trainyard.manymodels.driver import Outcome, register_model
from trainyard.manymodels.keys import key_text
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.tracking import context
from trainyard.workspace import Workspace

if TYPE_CHECKING:
    from trainyard.manymodels.driver import Driver

POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 2.0  # a canceled partition's script stops within this; then its task is killed
_workspaces: dict[str, Workspace] = {}  # per Ray worker process: one store and metric buffer


class _Stopped(BaseException):
    """Raised into the script by a stop: a cancel's SIGTERM or the job's timeout."""


class TaskWorker(Worker):
    """The local worker's phases in a Ray task; the command runs in this process when it can."""

    def __init__(self, ws: Workspace, run_id: str, target: str) -> None:
        super().__init__(ws, run_id)
        self.target = target
        self.trapped = False  # whether a stop may be raised into the script now
        self.abandoned = False  # Ray stopped the process: the parent's driver or worker ends the run

    def claim_and_run(self) -> None:
        """Run the partition unless it is no longer queued (canceled before its task started)."""
        if not self.store.set_status(
            self.run_id, RunStatus.PREPARING, expected=RunStatus.QUEUED, worker=self.me
        ):
            self._close_log()
            return
        self.run_claimed(NO_SLOT)

    def _environment(self, job: JobRecord, argv: list[str]) -> tuple[list[str], dict[str, str]]:
        return cluster_environment(job, argv, self.target)

    def _run_command(
        self, argv: list[str], env_vars: dict[str, str], info: RunInfo, timeout: float | None
    ) -> tuple[int, bool]:
        if len(argv) > 1 and argv[0] in ("python", "python3") and argv[1].endswith(".py"):
            return self._run_script(argv[1], argv[2:], {**env_vars, **self._run_vars(info)}, info, timeout)
        if argv[0] in ("python", "python3"):
            argv = [sys.executable, *argv[1:]]
        return super()._run_command(argv, env_vars, info, timeout)

    def _run_script(
        self, script: str, args: list[str], env: dict[str, str], info: RunInfo, timeout: float | None
    ) -> tuple[int, bool]:
        """Run ``script`` as ``__main__`` here, as ``python script.py args`` would in the work
        folder, its output into the run's log and ``Run.get_context()`` the partition's run;
        the process's environment, folder, argv and path are put back after."""
        saved = (dict(os.environ), os.getcwd(), sys.argv, list(sys.path))
        code = 0
        with open(self.log_path, "a", buffering=1) as out:
            previous: dict[int, Any] = {}
            try:
                os.environ.update(env)
                os.chdir(self.work)
                sys.argv = [script, *args]
                sys.path.insert(0, str(self.work))
                previous = self._trap_stops(timeout)
                job = context.running_job(self.ws, self.run_id, info.attempt)
                with job, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    try:
                        runpy.run_path(str(self.work / script), run_name="__main__")
                    except SystemExit as exc:
                        code = _exit_code(exc.code, out)
                    except _Stopped:
                        code = 1
                    except BaseException:  # the script's own error: its last line is the run's error
                        traceback.print_exc(file=out)
                        code = 1
            finally:
                self.trapped = False
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                signal.setitimer(signal.ITIMER_REAL, 0)
                os.environ.clear()
                os.environ.update(saved[0])
                os.chdir(saved[1])
                sys.argv, sys.path[:] = saved[2], saved[3]
        return code, self.stop.is_set()

    def _trap_stops(self, timeout: float | None) -> dict[int, Any]:
        """SIGTERM (a cancel) and SIGALRM (the timeout) stop the script; the handlers they
        replace, to put back. None in a thread other than the main one, where no signal lands."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def on_term(_sig: int, _frame: FrameType | None) -> None:
            if not self.store.get_run(self.run_id).cancel_requested:  # Ray stopping its worker
                self.say("the Ray worker was stopped (SIGTERM, no cancel): the parent run ends this one")
                self.abandoned = True
            self._request_stop(CANCELED_BY_USER)

        def on_alarm(_sig: int, _frame: FrameType | None) -> None:
            self._request_stop(f"timed out after {timeout:g}s (the job's timeout)", RunStatus.FAILED)

        previous: dict[int, Any] = {signal.SIGTERM: signal.signal(signal.SIGTERM, on_term)}
        if timeout:
            previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, float(timeout))
        self.trapped = True
        return previous

    def _finish(self, status: RunStatus, error: str | None = None, code: int | None = None) -> None:
        if self.abandoned:  # the job ends (its driver canceled, the cluster lost): its parent says why
            self.stop.set()
            return
        super()._finish(status, error, code)

    def _request_stop(self, reason: str, status: RunStatus = RunStatus.CANCELED) -> None:
        super()._request_stop(reason, status)
        if not self.trapped:
            return
        if threading.current_thread() is threading.main_thread():
            self.trapped = False
            raise _Stopped(reason)
        _thread.interrupt_main(signal.SIGTERM)  # the heartbeat read a cancel request: on_term stops it


def _exit_code(code: object, out: Any) -> int:
    """``sys.exit(code)``'s exit status, as the interpreter would give it."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=out)
    return 1


def _workspace(root: str) -> Workspace:
    if root not in _workspaces:
        _workspaces[root] = Workspace(root)
    return _workspaces[root]


def run_partition(ws_root: str, run_id: str, target: str, model_name: str) -> str:
    """The Ray task: run a partition's queued run, register its model; what the driver prints."""
    ws = _workspace(ws_root)
    TaskWorker(ws, run_id, target).claim_and_run()
    child = ws.store.get_run(run_id)
    model = register_model(ws, child, model_name)
    if model is not None:
        return f"completed {model}"
    outcome = Outcome.of(ws.store.get_run(run_id) if child.status == RunStatus.COMPLETED else child, None)
    return f"{outcome.status} {outcome.error or ''}".rstrip()


class TaskDispatch:
    """The driver's loop on a Ray target: up to ``max_concurrent_partitions`` tasks in flight."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.group = driver.group
        self.ws = driver.group.ws

    def loop(self) -> None:
        ray = _connect()
        signal.signal(signal.SIGTERM, self.driver.on_sigterm)  # Ray's own handler would just exit
        group, ws = self.group, self.ws
        assert group.script is not None  # the driver sends only script partitions here
        options = task_options(group.script.job.resources, group.script.environment.requirements)
        check_fits(ray, options, group.settings.compute)
        task = ray.remote(run_partition).options(**options)
        todo = self._todo()
        pending: dict[Any, tuple[str, str]] = {}  # task -> (partition key, run id)
        limit = group.settings.max_concurrent_partitions
        model_name = group.settings.group_model_name
        while todo or pending:
            if self.driver.stopping:
                self._stop(ray, pending)
                return
            while todo and len(pending) < limit:
                partition, attempt = todo.pop(0)
                child = group.launch(partition, attempt, as_task=True)
                parent = ws.store.get_run(group.parent.id)
                if parent.status.is_terminal:  # its worker ended it (a lost cluster) as this run was made
                    end_tasks_of(ws, parent)
                    return
                ref = task.remote(str(ws.root), child.id, group.settings.compute, model_name)
                pending[ref] = (key_text(partition.values), child.id)
            ready, rest = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            if ready and rest:
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in ready:
                key, run_id = pending.pop(ref)
                try:
                    line = ray.get(ref)
                except ray.exceptions.RayError as exc:  # its worker died, or Ray could not run it
                    line = self._lost(run_id, exc)
                self.driver.say(f"partition {key}: {line}")

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

    def _lost(self, run_id: str, exc: Exception) -> str:
        """Fail a partition whose task ended without finishing its run."""
        info = self.ws.store.get_run(run_id)
        if info.status.is_terminal:
            return info.status.value
        reason = f"its Ray task failed: {_first_line(exc)}"
        self.ws.store.set_status(run_id, RunStatus.FAILED, error=reason, expected=info.status)
        return f"failed {reason}"

    def _stop(self, ray: Any, pending: dict[Any, tuple[str, str]]) -> None:
        """Cancel the partitions in flight as ``run cancel`` does (a queued one at once, a running
        one's script stopped by SIGTERM), then kill the tasks that did not end in the grace time."""
        reason = self.driver.stopping
        self.driver.say(f"stopping: {reason}; canceling {len(pending)} partition run(s)")
        target = get_compute(self.group.settings.compute, self.ws)
        for _, run_id in pending.values():
            with contextlib.suppress(InvalidTransitionError):  # it may have ended meanwhile
                target.cancel(self.ws, self.ws.store.get_run(run_id), reason)
        if pending:
            ray.wait(list(pending), num_returns=len(pending), timeout=STOP_GRACE_SECONDS)
        for ref, (_, run_id) in pending.items():
            with contextlib.suppress(Exception):  # ended already
                ray.cancel(ref, force=True)
            info = self.ws.store.get_run(run_id)
            if not info.status.is_terminal:
                self.ws.store.set_status(run_id, RunStatus.CANCELED, error=reason, expected=info.status)


def task_options(resources: Any, requirements: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A partition task's Ray options: the job's resources (one CPU by default), no retry by Ray
    (a partition is retried by ``many-models retry``), the environment's requirements as ``pip``."""
    options: dict[str, Any] = {"num_cpus": resources.cpu or DEFAULT_CPUS, "max_retries": 0}
    if resources.gpu:
        options["num_gpus"] = resources.gpu
    if resources.memory:
        options["memory"] = resources.memory
    if requirements:
        options["runtime_env"] = {"pip": list(requirements)}
    return options


def check_fits(ray: Any, options: dict[str, Any], target: str) -> None:
    """A task asking for more than any node has would stay pending: refuse it, saying so."""
    wanted = {
        "CPU": options["num_cpus"],
        "GPU": options.get("num_gpus", 0),
        "memory": options.get("memory", 0),
    }
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    largest = {key: max((n.get(key, 0.0) for n in nodes), default=0.0) for key in wanted}
    over = [f"{key} {value:g} (the largest node has {largest[key]:g})"
            for key, value in wanted.items() if value > largest[key]]  # fmt: skip
    if over:
        raise InvalidInputError(
            f"each partition asks for more than the Ray target {target!r} has: {', '.join(over)}"
        )


def _connect() -> Any:
    """Ray, connected to the cluster of the job this driver runs as (``RAY_ADDRESS``)."""
    import ray

    if "RAY_ADDRESS" not in os.environ:
        raise TrainyardError("the many-models driver of a Ray target runs as a Ray job (no RAY_ADDRESS)")
    if not ray.is_initialized():
        ray.init(log_to_driver=False)  # each partition's output goes to its own run's log
    return ray
