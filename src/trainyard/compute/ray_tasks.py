"""Child runs as Ray tasks of their driver's one Ray job: many-models partitions, sweep trials.

A Ray job per child would start a job driver process each (seconds); a task takes milliseconds.
The driver (a many-models run's, a sweep's) is itself a Ray job on the target, reserving no CPU
(``ray_worker.job_cpus``). It creates each child run queued, tagged ``ray.task``
(``store.queue.TASK_TAG``), and sends a task (``TaskPool.send``) asking for the child job's
``resources`` (one CPU by default, ``task_options``). The task runs the child with the local
worker's own phases (``TaskWorker``): claim, snapshot restore, inputs, heartbeat, ``./outputs``
uploaded, finish. So its status, log, metrics and files land where a Ray job's would, through the
workspace's path.

A ``python script.py`` command runs inside the task's Ray worker process, which stays warm
between tasks: trainyard and the script's imports are imported once per worker, not once per
child. Any other command runs as a subprocess of the task. A cancel (its SIGTERM to the worker
process, or the cancel request a heartbeat reads) and the job's timeout (SIGALRM) stop the script
where it is; a SIGTERM without a cancel request is Ray stopping its worker, and the run is left
to its parent to end with the reason. A task that dies (its worker killed) fails its child alone,
saying so (``lost``), or cancels it when a cancel was asked for. When the driver's job ends with
children still active (canceled, killed, or the cluster lost), the parent's worker ends them with
the parent's reason (``RayWorker._finish``), and the reaper does if that worker is gone too.
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
from collections.abc import Callable
from types import FrameType
from typing import Any

from trainyard.compute import get_compute
from trainyard.compute.base import CANCELED_BY_USER
from trainyard.compute.job import JobRecord
from trainyard.compute.ray_target import first_line
from trainyard.compute.ray_worker import DEFAULT_CPUS, cluster_environment
from trainyard.compute.worker import NO_SLOT, Worker
from trainyard.errors import InvalidInputError, InvalidTransitionError, TrainyardError
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.tracking import context
from trainyard.workspace import Workspace

STOP_GRACE_SECONDS = 2.0  # a canceled child's script stops within this; then its task is killed
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
        self.ran = False  # whether this task claimed the run (so no one else ran or registered it)

    def claim_and_run(self) -> None:
        """Run the child unless it is no longer queued (canceled before its task started)."""
        if not self.store.set_status(
            self.run_id, RunStatus.PREPARING, expected=RunStatus.QUEUED, worker=self.me
        ):
            self._close_log()
            return
        self.ran = True
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
        folder, its output into the run's log and ``Run.get_context()`` the child's run;
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

    def _finish(
        self,
        status: RunStatus,
        error: str | None = None,
        code: int | None = None,
        info: RunInfo | None = None,
    ) -> None:
        if self.abandoned:  # the job ends (its driver canceled, the cluster lost): its parent says why
            self.stop.set()
            return
        super()._finish(status, error, code, info)

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


def task_workspace(root: str) -> Workspace:
    """The workspace at ``root`` (a folder, or a server's URL), opened once per Ray worker process
    (one store, one metric buffer)."""
    if root not in _workspaces:
        _workspaces[root] = Workspace.from_config(root)
    return _workspaces[root]


def run_task(ws_root: str, run_id: str, target: str) -> str:
    """The Ray task of a child run: run it if it is still queued; its status, as it ended."""
    ws = task_workspace(ws_root)
    TaskWorker(ws, run_id, target).claim_and_run()
    info = ws.store.get_run(run_id)
    return f"{info.status.value} {info.error or ''}".rstrip()


def task_options(resources: Any, requirements: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A child's task options: the job's resources (one CPU by default), no retry by Ray (its
    driver decides what runs again), the environment's requirements as ``pip``."""
    options: dict[str, Any] = {"num_cpus": resources.cpu or DEFAULT_CPUS, "max_retries": 0}
    if resources.gpu:
        options["num_gpus"] = resources.gpu
    if resources.memory:
        options["memory"] = resources.memory
    if requirements:
        options["runtime_env"] = {"pip": list(requirements)}
    return options


def check_fits(ray: Any, options: dict[str, Any], target: str, what: str = "each partition") -> None:
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
        raise InvalidInputError(f"{what} asks for more than the Ray target {target!r} has: {', '.join(over)}")


def free_slots(ray: Any, options: dict[str, Any]) -> int:
    """How many tasks of ``options`` the cluster's free CPUs run at once now (at least one)."""
    free = ray.available_resources().get("CPU", 0.0)
    return max(1, int(free // options["num_cpus"])) if options["num_cpus"] else sys.maxsize


def connect_in_job(driver: str) -> Any:
    """Ray, connected to the cluster of the job this driver runs as (``RAY_ADDRESS``)."""
    import ray

    if "RAY_ADDRESS" not in os.environ:
        raise TrainyardError(f"the {driver} driver of a Ray target runs as a Ray job (no RAY_ADDRESS)")
    if not ray.is_initialized():
        ray.init(log_to_driver=False)  # each child's output goes to its own run's log
    return ray


class TaskPool:
    """The child runs a driver has in flight as Ray tasks, each sent once its run is queued."""

    def __init__(
        self, ray: Any, fn: Callable[..., str], options: dict[str, Any], ws: Workspace, target: str
    ) -> None:
        self.ray = ray
        self.task = ray.remote(fn).options(**options)
        self.ws = ws
        self.target = target
        self.pending: dict[Any, str] = {}  # task -> run id

    def __len__(self) -> int:
        return len(self.pending)

    def send(self, run_id: str, *args: Any) -> None:
        """Run the queued child ``run_id`` as a task: ``fn(workspace, run_id, target, *args)``."""
        self.pending[self.task.remote(self.ws.uri, run_id, self.target, *args)] = run_id

    def ended(self, timeout: float) -> list[tuple[str, str]]:
        """The children whose task ended (waiting up to ``timeout`` for one), each with the line
        its task returned, or why it was lost (``lost``)."""
        if not self.pending:
            return []
        ray = self.ray
        ready, rest = ray.wait(list(self.pending), num_returns=1, timeout=timeout)
        if ready and rest:
            ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        done = []
        for ref in ready:
            run_id = self.pending.pop(ref)
            try:
                line = str(ray.get(ref))
            except ray.exceptions.RayError as exc:  # its worker died, or Ray could not run it
                line = lost(self.ws, run_id, exc)
            done.append((run_id, line))
        return done

    def stop(self, reason: str, grace: float = STOP_GRACE_SECONDS) -> None:
        """Cancel the children in flight as ``run cancel`` does (a queued one at once, a running
        one's script stopped by SIGTERM), then kill the tasks that did not end in the grace time."""
        target = get_compute(self.target, self.ws)
        for run_id in self.pending.values():
            with contextlib.suppress(InvalidTransitionError):  # it may have ended meanwhile
                target.cancel(self.ws, self.ws.store.get_run(run_id), reason)
        if self.pending:
            self.ray.wait(list(self.pending), num_returns=len(self.pending), timeout=grace)
        for ref, run_id in self.pending.items():
            with contextlib.suppress(Exception):  # ended already
                self.ray.cancel(ref, force=True)
            info = self.ws.store.get_run(run_id)
            if not info.status.is_terminal:
                self.ws.store.set_status(run_id, RunStatus.CANCELED, error=reason, expected=info.status)
        self.pending.clear()


def lost(ws: Workspace, run_id: str, exc: Exception) -> str:
    """End a child whose task ended without finishing its run: canceled with its cancel's reason
    when one was asked for (the SIGTERM of a cancel can land outside the script), else failed."""
    info = ws.store.get_run(run_id)
    if info.status.is_terminal:
        return info.status.value
    if info.cancel_requested:
        reason = info.cancel_reason or CANCELED_BY_USER
        ws.store.set_status(run_id, RunStatus.CANCELED, error=reason, expected=info.status)
        return f"canceled {reason}"
    reason = f"its Ray task failed: {first_line(exc)}"
    ws.store.set_status(run_id, RunStatus.FAILED, error=reason, expected=info.status)
    return f"failed {reason}"
