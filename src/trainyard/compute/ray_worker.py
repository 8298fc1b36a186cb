"""The worker of a run on a Ray target: the local worker, with the command run as a Ray job.

Everything around the command is the local worker's (claim, snapshot restore, inputs, heartbeat,
cancel, timeout, finish). The command itself is submitted through the Jobs API with the restored
snapshot as its working directory and the environment's requirements as its ``pip`` runtime
environment; the worker polls the job, appends the job's log to the run's as it grows, and stops
the job on a cancel or a timeout. No local slot is taken: the cluster schedules the job. A job on
this machine copies its ./outputs and ./logs back into the run's work folder (``_entrypoint``).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.compute import get_compute
from trainyard.compute.job import JobRecord
from trainyard.compute.names import RAY_TARGET_VAR
from trainyard.compute.ray_target import RayCompute, RayUnreachableError, cluster_state
from trainyard.compute.ray_train import driver_argv
from trainyard.compute.reaper import end_tasks_of
from trainyard.compute.worker import GRACE_SECONDS, NO_SLOT, RANK_FAILED, Worker
from trainyard.credentials import TOKEN_VAR
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.tracking.context import WORKSPACE_VAR
from trainyard.workspace import Workspace

if TYPE_CHECKING:
    from ray.job_submission import JobSubmissionClient

    from trainyard.compute.slots import Slot

POLL_SECONDS = 0.25
LOST_AFTER_SECONDS = 15.0  # a cluster that has not answered for this long is lost
NO_EXIT_CODE = 1  # what a run that Ray ended without an exit code records
RETURN_VAR = "TRAINYARD_RETURN_DIR"  # the run's work folder, where the job copies ./outputs back
DEFAULT_CPUS = 1.0  # a job reserves one CPU unless it says: the cluster bounds how many run at once
# Commands that spread their own work over the cluster as Ray actors, each reserving its CPU,
# while the command itself mostly waits: the parallel runner (``parallel/on_ray.py``).
SPREADING_MODULES = ("trainyard.parallel.runner",)


class RayWorker(Worker):
    forks_commands = False  # the command runs on the cluster, not here

    def __init__(self, ws: Workspace, run_id: str, target: RayCompute, job_dir: Path | None = None) -> None:
        super().__init__(ws, run_id, job_dir)
        self.target = target

    def _wait_for_slot(self) -> Slot | None:
        return NO_SLOT  # type: ignore[return-value]

    def _environment(self, job: JobRecord, argv: list[str]) -> tuple[list[str], dict[str, str]]:
        return cluster_environment(job, argv, self.target.name)

    def _run_command(
        self, argv: list[str], env_vars: dict[str, str], info: RunInfo, timeout: float | None
    ) -> tuple[int, bool]:
        job = JobRecord.of_run(info)
        try:
            client = self.target.client()
            self._check_fits(job)
            env = {
                **env_vars,
                **self._run_vars(info),
                **self._server_access(),
                RETURN_VAR: str(self.work),
                RAY_TARGET_VAR: self.target.name,
            }
            job_id = self._submit(client, job, argv, env, info.attempt)
        except (RayUnreachableError, InvalidInputError) as exc:
            self._request_stop(str(exc), RunStatus.FAILED)
            return NO_EXIT_CODE, True
        self.say(f"Ray job {job_id} on {self.target.spec.address}")
        return self._follow(client, job_id, timeout)

    def _server_access(self) -> dict[str, str]:
        """A server workspace's job (an agent's, ``trainyard agent --ray``) reaches the server from
        any node: by its URL and the run's job token, not by this machine's cache folder."""
        if not self.ws.is_server:
            return {}
        return {WORKSPACE_VAR: self.ws.uri, TOKEN_VAR: os.environ.get(TOKEN_VAR, "")}

    def _check_fits(self, job: JobRecord) -> None:
        """A job asking for more than the cluster has would wait forever: fail it now, saying so.
        A distributed job's ``resources`` are each rank's: each must fit a node, all the cluster."""
        res = job.resources
        wanted = {"CPU": job_cpus(job), "GPU": res.gpu or 0.0, "memory": float(res.memory or 0)}
        state = cluster_state(self.target.spec.address)
        over = [f"{key} {value:g} (the largest node has {state.largest_node.get(key, 0):g})"
                for key, value in wanted.items() if value > state.largest_node.get(key, 0)]  # fmt: skip
        ranks = _ranks(job)
        if ranks > 1:
            total = state.resources
            over += [f"{key} {value * ranks:g} for its {ranks} ranks (the cluster has {total.get(key, 0):g})"
                     for key, value in wanted.items() if value * ranks > total.get(key, 0)]  # fmt: skip
        if over:
            raise InvalidInputError(
                f"the job asks for more than the Ray target {self.target.name!r} has: {', '.join(over)}"
            )

    def _submit(
        self, client: JobSubmissionClient, job: JobRecord, argv: list[str], env: dict[str, str], attempt: int
    ) -> str:
        """A command as the job's entrypoint, reserving its ``resources``; a distributed job's
        entrypoint is a TorchTrainer's driver (``ray_train.py``), which reserves nothing itself
        (it waits on its ranks, which reserve ``resources`` each)."""
        runtime_env: dict[str, Any] = {"working_dir": str(self.work), "env_vars": env}
        if job.environment.requirements:
            runtime_env["pip"] = list(job.environment.requirements)
        if attempt > 1:  # a lost worker's job may still run: this attempt replaces it
            self._stop_quietly(client, _submission_id(self.run_id, attempt - 1))
        res = job.resources
        reserve: dict[str, Any] = {
            "entrypoint_num_cpus": job_cpus(job),
            "entrypoint_num_gpus": res.gpu,
            "entrypoint_memory": res.memory,
        }
        if job.distribution is not None:
            argv = driver_argv(_ranks(job), res.cpu or DEFAULT_CPUS, res.gpu or 0.0, res.memory, argv)
            reserve = {"entrypoint_num_cpus": 0}
        try:
            return str(
                client.submit_job(
                    entrypoint=_entrypoint(argv, list(job.outputs)),
                    submission_id=_submission_id(self.run_id, attempt),
                    runtime_env=runtime_env,
                    metadata={"trainyard_run": self.run_id},
                    **reserve,
                )
            )
        except Exception as exc:  # Ray raises RuntimeError for a refused request, others for the network
            raise RayUnreachableError(
                f"the Ray target {self.target.name!r} did not take the job: {exc}"
            ) from None

    def _follow(self, client: JobSubmissionClient, job_id: str, timeout: float | None) -> tuple[int, bool]:
        """Poll the job to its end, copying its log; a stop (cancel, timeout) stops the job."""
        from ray.job_submission import JobStatus

        deadline = None if timeout is None else time.monotonic() + float(timeout)
        heard = time.monotonic()
        shown = 0
        stopping_since: float | None = None
        while True:
            try:
                status = client.get_job_status(job_id)
                logs = client.get_job_logs(job_id)
                heard = time.monotonic()
            except Exception as exc:  # the head is down or the network is: give it a while
                if time.monotonic() - heard > LOST_AFTER_SECONDS:
                    reason = f"lost the Ray cluster of target {self.target.name!r}: {exc}"
                    self._request_stop(reason, RunStatus.FAILED)
                    return NO_EXIT_CODE, True
                time.sleep(POLL_SECONDS)
                continue
            if len(logs) > shown:
                self.log.write(logs[shown:].encode())
                shown = len(logs)
            if status.is_terminal():
                code, stopped = self._outcome(
                    client, job_id, status == JobStatus.STOPPED, stopping_since is not None
                )
                failed = RANK_FAILED.search(logs) if self.distribution is not None else None
                if failed is not None and not stopped:  # the driver's line: the rank and its code
                    self.failed_rank, code = int(failed[1]), int(failed[2])
                return code, stopped
            if deadline is not None and time.monotonic() > deadline:
                self._request_stop(f"timed out after {timeout:g}s (the job's timeout)", RunStatus.FAILED)
            if self.stop.is_set() and stopping_since is None:
                self.say(f"stopping: {self._stop_reason()}")
                self._stop_quietly(client, job_id)
                stopping_since = time.monotonic()
            elif stopping_since is not None and time.monotonic() - stopping_since > GRACE_SECONDS + 5:
                return NO_EXIT_CODE, True  # asked to stop; the run ends with the stop's reason
            time.sleep(POLL_SECONDS)

    def _outcome(
        self, client: JobSubmissionClient, job_id: str, stopped_on_ray: bool, we_stopped: bool
    ) -> tuple[int, bool]:
        """An ended job as the local worker's (exit code, stopped); Ray's reason when it has no code."""
        info = client.get_job_info(job_id)
        code = info.driver_exit_code
        if stopped_on_ray:  # a job that ended by itself before our stop landed keeps its outcome
            if not we_stopped:
                self._request_stop(f"the Ray job {job_id} was stopped on the cluster")
            return (NO_EXIT_CODE if code is None else code), True
        if code is not None:
            return code, False
        if str(info.status) == "SUCCEEDED":
            return 0, False
        self._request_stop(f"Ray: {(info.message or 'the job failed').strip()[:500]}", RunStatus.FAILED)
        return NO_EXIT_CODE, True

    def _finish(
        self,
        status: RunStatus,
        error: str | None = None,
        code: int | None = None,
        info: RunInfo | None = None,
    ) -> None:
        """The end of the child runs its job ran as Ray tasks and left active (a driver killed
        with its job, a lost cluster: Ray ends a job's tasks with its driver), with the run's
        reason, then the run's own end: whoever sees the run ended sees its tasks ended."""
        info = info or self.store.get_run(self.run_id)
        if not info.status.is_terminal:
            end_tasks_of(self.ws, replace(info, status=status, error=error or info.error))
        super()._finish(status, error, code, info)

    def _stop_quietly(self, client: JobSubmissionClient, job_id: str) -> None:
        try:
            client.stop_job(job_id)
        except Exception as exc:  # not found (never submitted), already ended, cluster gone
            self.say(f"could not stop Ray job {job_id}: {exc}")


def job_cpus(job: JobRecord) -> float:
    """The CPUs a job reserves: its ``resources.cpu``, else one, and none for a driver that mostly
    waits on its children (a many-models or sweep driver: its partitions' or trials' tasks take
    the CPUs; a parallel job's runner: its actors do)."""
    return job.resources.cpu or (DEFAULT_CPUS if job.uses_slot and not spreads_itself(job) else 0.0)


def spreads_itself(job: JobRecord) -> bool:
    """Whether the job's command is ``python -m`` one of ``SPREADING_MODULES``."""
    argv = job.argv
    return len(argv) > 2 and argv[1] == "-m" and argv[2] in SPREADING_MODULES


def cluster_environment(job: JobRecord, argv: list[str], target: str) -> tuple[list[str], dict[str, str]]:
    """The argv and variables of a command the cluster's python runs (Ray installs the
    requirements); an environment asking for another python is refused, saying why."""
    if job.environment.python is not None:
        raise InvalidInputError(
            f"environment {job.environment.name!r} asks for python {job.environment.python}; on the "
            f"Ray target {target!r} the cluster's python runs the job: leave python out"
        )
    return argv, dict(job.environment.env_vars)


def _entrypoint(argv: list[str], outputs: list[str]) -> str:
    """The command (each argument quoted: never parsed by the shell), with its output folders made
    first and then its ./outputs and ./logs copied into the run's work folder where that folder is
    on the node that ran it (a cluster on this machine): the worker uploads them from there, as on
    local compute. Ray runs the entrypoint with /bin/sh; the command's exit code is the job's."""
    made = shlex.join(["mkdir", "-p", "outputs", *(f"outputs/{name}" for name in outputs)])
    back = f'[ -d "$d" ] && [ -d "${RETURN_VAR}" ] && cp -R "$d" "${RETURN_VAR}/"'
    return f"{made} && {{ {shlex.join(argv)}; code=$?; for d in outputs logs; do {back}; done; exit $code; }}"


def _ranks(job: JobRecord) -> int:
    """How many processes run the command: ``process_count_per_instance`` x ``instance_count``."""
    if job.distribution is None:
        return 1
    return job.distribution.process_count_per_instance * job.resources.instance_count


def _submission_id(run_id: str, attempt: int) -> str:
    return f"trainyard-{run_id}-{attempt}"


def main(argv: list[str] | None = None) -> None:
    ws_root, run_id = (argv or sys.argv[1:])[:2]
    ws = Workspace(ws_root)
    name = ws.store.get_run(run_id).compute or ""
    try:
        target = get_compute(name, ws)
        if not isinstance(target, RayCompute):
            raise InvalidInputError(f"compute target {name!r} is not a Ray target")
    except TrainyardError as exc:  # deleted (or changed) since the run was queued
        ws.store.set_status(run_id, RunStatus.FAILED, error=str(exc), expected=RunStatus.QUEUED)
        return
    RayWorker(ws, run_id, target).run()


if __name__ == "__main__":
    main()
