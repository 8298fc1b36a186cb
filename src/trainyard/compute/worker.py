"""The local worker: one process per run, started detached by ``LocalCompute.submit``.

queued (wait for a slot) -> preparing (restore the snapshot, resolve the environment) ->
running (the command, in its own process group, dying with the worker) -> completed | failed
| canceled. A heartbeat thread reports liveness and picks up cancel requests; a cancel or a
timeout sends SIGTERM to the job's process group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar, Protocol

from trainyard.artifacts import run_key
from trainyard.compute.base import CANCELED_BY_USER
from trainyard.compute.job import Distribution, JobRecord, JobRecordError
from trainyard.compute.log_shipper import LogShipper
from trainyard.compute.slots import Slot, try_acquire
from trainyard.compute.wakeup import notify_ended
from trainyard.compute.zygote import Zygote, runs_in_zygote
from trainyard.environments import resolve
from trainyard.errors import TrainyardError
from trainyard.jobs.data_inputs import materialize_data_inputs
from trainyard.jobs.data_outputs import register_data_outputs
from trainyard.jobs.run_outputs import hash_tags, materialize_run_outputs
from trainyard.jobs.snapshot import restore_snapshot
from trainyard.jobs.uploads import materialize_inputs, substitute_uris
from trainyard.liveness import free_to_take, worker_id
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.tracking.context import ATTEMPT_VAR, EXPERIMENT_VAR, RUN_ID_VAR, WORKSPACE_VAR
from trainyard.workspace import Workspace

LOG = "logs/std_log.txt"
GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


class Process(Protocol):
    """A process of the command: a ``subprocess.Popen``, or a zygote become the command."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class Stop:
    """Why the worker ends a run before its command does: a cancel (``canceled``), the job's
    timeout (``failed``), a command that cannot start (``failed``)."""

    status: RunStatus
    reason: str


def die_with_parent() -> None:  # runs in the child between fork and exec
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@functools.cache
def setpriv() -> str | None:
    """util-linux's ``setpriv`` where it takes ``--pdeathsig``: it sets the parent-death signal
    and execs the command, so a command starts by vfork with no Python run in the child (1.5 ms
    from Popen to exit of ``true``, against 6 ms for a fork that runs ``die_with_parent``).
    Found once per process (the fork server finds it for its workers)."""
    found = shutil.which("setpriv") if sys.platform == "linux" else None
    if found is None:
        return None
    probe = subprocess.run([found, "--pdeathsig", "KILL", "--", "true"], capture_output=True, check=False)
    return found if probe.returncode == 0 else None


def _executable(program: str, env: dict[str, str], cwd: Path | None) -> None:
    """Raise what exec would for a program that cannot run (a launcher would only exit 127)."""
    if os.sep in program:
        candidates = [Path(cwd or ".", program)]
    else:
        candidates = [Path(folder, program) for folder in os.get_exec_path(env)]
    if any(path.is_file() and os.access(path, os.X_OK) for path in candidates):
        return
    if any(path.is_file() for path in candidates):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)


class Worker:
    forks_commands: ClassVar[bool] = True  # a driver's command from a zygote; a Ray worker's goes to Ray

    def __init__(self, ws: Workspace, run_id: str, job_dir: Path | None = None) -> None:
        self.ws = ws
        self.store = ws.store
        self.run_id = run_id
        self.me = worker_id()
        self.job_dir = job_dir or ws.jobs_dir / run_id
        self.work = self.job_dir / "work"
        self.inputs = self.job_dir / "inputs"  # the inputs a server workspace stored for the job
        self.stop = threading.Event()
        self.stopped = Stop(RunStatus.CANCELED, CANCELED_BY_USER)  # what a stop means, once set
        self.distribution: Distribution | None = None  # the job's, once it runs: ranks to start
        self.failed_rank: int | None = None  # the rank of a distributed job that failed it
        self.zygote: Zygote | None = None  # forked for a driver's command, until it is started
        # The job writes straight into the log of a store on this disk; else into a scratch file
        # whose new bytes are appended to the log as it grows.
        key = run_key(run_id, LOG)
        local = ws.artifacts.local_path(key)
        self.log_path = local or self.job_dir / "std_log.txt"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - closed in run()
        self.log_shipper = None if local else LogShipper(ws.artifacts, key, self.log_path)

    def say(self, line: str) -> None:
        self.log.write(f"[trainyard] {line}\n".encode())

    # -- phases ---------------------------------------------------------------------------------
    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._request_stop(CANCELED_BY_USER))
        try:
            job = JobRecord.of_run(self.store.get_run(self.run_id))
        except JobRecordError as exc:  # nothing can run it; fail it rather than leave it queued
            self.say(f"error: {exc}")
            self._finish(RunStatus.FAILED, str(exc))
            self._close_log()  # a server workspace's log gets the error line too
            return
        self.zygote = self._fork_zygote(job)
        try:
            self._claim_and_run(job)
        finally:
            if self.zygote is not None:  # not used: the run was not ours to run, or it failed first
                self.zygote.close()

    def _fork_zygote(self, job: JobRecord) -> Zygote | None:
        """A zygote for a trainyard driver's command (``compute/zygote.py``), while no thread runs."""
        if not (self.forks_commands and sys.platform == "linux" and threading.active_count() == 1):
            return None
        if not runs_in_zygote(job.argv, job.environment.is_default) or job.distribution is not None:
            return None
        return Zygote(self.log, die_with_parent)

    def _claim_and_run(self, job: JobRecord) -> None:
        slot = self._wait_for_slot() if job.uses_slot else NO_SLOT
        if slot is None:
            self._close_log()
            return
        # Compare-and-set: of two workers started for one run, exactly one goes on.
        if not self.store.set_status(
            self.run_id, RunStatus.PREPARING, expected=RunStatus.QUEUED, worker=self.me
        ):
            slot.release()
            self._close_log()
            return
        self.run_claimed(slot)

    def run_held(self) -> None:
        """Run a run claimed elsewhere (an agent's claim on the server): SIGTERM stops it."""
        signal.signal(signal.SIGTERM, lambda *_: self._request_stop(CANCELED_BY_USER))
        self.run_claimed(NO_SLOT)

    def run_claimed(self, slot: Slot | _NoSlot) -> None:
        """Prepare, run and finish a run this worker holds (``preparing``, claimed by compare-and-set)."""
        try:
            threading.Thread(target=self._heartbeat, daemon=True).start()
            if self.log_shipper is not None:
                args = (self.stop, self.say)
                threading.Thread(target=self.log_shipper.ship_until, args=args, daemon=True).start()
            self._execute(self.store.get_run(self.run_id))
        except TrainyardError as exc:
            self.say(f"error: {exc}")
            self._finish(RunStatus.FAILED, str(exc))
        except Exception as exc:  # a bug in trainyard: still never leave the run hanging
            self.say(f"internal error: {exc!r}")
            self._finish(RunStatus.FAILED, f"trainyard worker error: {exc!r}")
            raise
        finally:
            slot.release()
            for folder in (self.work, self.inputs):
                shutil.rmtree(folder, ignore_errors=True)
            self._close_log()

    def _wait_for_slot(self):  # noqa: ANN202 - Slot | None
        folder = self.ws.root / "compute" / "local"
        waited = False
        beat = 0.0
        while True:
            info = self.store.get_run(self.run_id)
            if info.status != RunStatus.QUEUED:  # canceled, or another worker took it
                return None
            if self.stop.is_set():
                self._finish_stopped()
                return None
            slot = try_acquire(folder, self.ws.config.local.concurrency)
            if slot is not None:
                return slot
            if not waited:
                self.say(f"waiting for a free local slot ({self.ws.config.local.concurrency} in use)")
                waited = True
            if time.monotonic() - beat > self.ws.config.heartbeat_seconds and free_to_take(
                info.worker, self.me
            ):
                self.store.heartbeat(self.run_id, self.me)
                beat = time.monotonic()
            time.sleep(0.2)

    def _execute(self, info: RunInfo) -> None:
        job = JobRecord.of_run(info)
        started = time.monotonic()
        if info.attempt > 1:
            self.say(f"attempt {info.attempt} (after: {info.error})")
            self.store.set_run_error(self.run_id, None)  # the lost worker's reason is in the log now
        for folder in (self.work, self.inputs):  # a retry starts from the snapshots again
            shutil.rmtree(folder, ignore_errors=True)
        self.work.mkdir(parents=True)  # even an empty snapshot gets a working folder
        files = restore_snapshot(info.snapshot_id or "", self.ws.artifacts, self.work)
        self.say(f"run {info.id}: {files} files from snapshot {(info.snapshot_id or '')[:12]}")
        argv = materialize_inputs(job.inputs, job.argv, self.ws.artifacts, self.inputs, self.say)
        argv = materialize_data_inputs(job.inputs, argv, self.ws, self.inputs, self.say)
        argv = substitute_uris(argv, materialize_run_outputs(job.inputs, self.ws, self.inputs, self.say))
        argv, env_vars = self._environment(job, argv)
        if self.stop.is_set():
            self._finish_stopped()
            return
        if not self.store.set_status(self.run_id, RunStatus.RUNNING, expected=RunStatus.PREPARING):
            return
        self.say(f"prepared in {time.monotonic() - started:.2f}s; running: {' '.join(argv)}")
        for name in job.outputs:  # ${{outputs.x}} is a folder that exists when the command starts
            (self.work / "outputs" / name).mkdir(parents=True, exist_ok=True)
        self.distribution = job.distribution
        code, stopped = self._run_command(argv, env_vars, info, job.timeout)
        if code == 0 and not stopped and job.outputs:  # what a later step's reuse key is made of
            folders = {name: self.work / "outputs" / name for name in job.outputs}
            self.store.log_batch(self.run_id, tags=hash_tags(folders))
        self._upload_outputs()
        if stopped:
            self._finish_stopped(code)
            return
        if code == 0:
            try:
                register_data_outputs(job.outputs, self.ws, self.run_id, self.say)
            except TrainyardError as exc:  # the run fails with the reason; nothing half-registered
                self.store.set_run_error(self.run_id, f"registering outputs: {exc}")
        self._finish_command(code)

    def _environment(self, job: JobRecord, argv: list[str]) -> tuple[list[str], dict[str, str]]:
        """The argv to run and the environment's variables: here, the job's environment built
        on this machine and its python in place of ``python`` (a Ray worker leaves that to Ray)."""
        resolved = resolve(job.environment, log=self.say)
        if argv[0] in ("python", "python3"):
            argv[0] = resolved.python
        return argv, resolved.env_vars

    def _run_vars(self, info: RunInfo) -> dict[str, str]:
        """What ``Run.get_context()`` in the command reads: its run, attempt, workspace, experiment."""
        return {
            RUN_ID_VAR: self.run_id,
            ATTEMPT_VAR: str(info.attempt),
            WORKSPACE_VAR: str(self.ws.root),
            EXPERIMENT_VAR: self.store.get_experiment(info.experiment_id).name,
            "PYTHONUNBUFFERED": "1",
        }

    def _run_command(
        self, argv: list[str], env_vars: dict[str, str], info: RunInfo, timeout: float | None
    ) -> tuple[int, bool]:
        """Run the command to its end or to a stop; returns its exit code and whether it was stopped.

        A distributed job's ranks run side by side: the first to fail fails the run, and the
        others are stopped then.
        """
        # As torchrun: ranks share the cores, one thread each unless the environment says more.
        threads = {"OMP_NUM_THREADS": "1"} if self.distribution is not None else {}
        env = {**threads, **os.environ, **env_vars, **self._run_vars(info)}
        (self.work / "outputs").mkdir(exist_ok=True)
        procs: list[Process] = []
        pumps: list[threading.Thread] = []
        try:
            for rank, rank_env in enumerate(rank_vars(self.distribution)):
                procs.append(self._start(argv, {**env, **rank_env}, piped=self.distribution is not None))
                if self.distribution is not None:
                    pumps.append(threading.Thread(target=self._pump, args=(procs[-1], rank), daemon=True))
                    pumps[-1].start()
        except OSError as exc:
            kill_groups(procs)
            self._request_stop(f"cannot start {argv[0]!r}: {exc.strerror}", RunStatus.FAILED)
            return 127, True
        try:
            return self._wait(procs, timeout)
        finally:
            for pump in pumps:  # the ranks' last lines are in the log before the run ends
                pump.join(5.0)

    def _start(self, argv: list[str], env: dict[str, str], piped: bool) -> Process:
        """One process of the command, in its own process group, dying with the worker."""
        if self.zygote is not None and not piped and runs_in_zygote(argv, True):
            zygote, self.zygote = self.zygote, None
            zygote.start(argv, env, str(self.work))
            return zygote
        return start_command(argv, env, self.work, None if piped else self.log)

    def _pump(self, proc: subprocess.Popen[bytes], rank: int) -> None:
        """A rank's output into the run's log, each line prefixed ``[rank K]`` (one write a line)."""
        assert proc.stdout is not None
        for line in proc.stdout:
            self.log.write(f"[rank {rank}] ".encode() + line + (b"" if line.endswith(b"\n") else b"\n"))

    def _wait(self, procs: list[Process], timeout: float | None) -> tuple[int, bool]:
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        with _Exits(procs) as exits:
            return self._wait_exits(procs, deadline, timeout, exits)

    def _wait_exits(
        self, procs: list[Process], deadline: float | None, timeout: float | None, exits: _Exits
    ) -> tuple[int, bool]:
        while True:
            codes = [proc.poll() for proc in procs]
            failed = next((rank for rank, code in enumerate(codes) if code), None)
            if failed is not None:
                if self.distribution is not None:
                    self.failed_rank = failed
                    if len(procs) > 1:
                        self.say(rank_failed(failed, codes[failed] or 0))
                        kill_groups(procs)
                return codes[failed] or 0, False
            if all(code is not None for code in codes):
                return 0, False
            if deadline is not None and time.monotonic() > deadline:
                self._request_stop(f"timed out after {timeout:g}s (the job's timeout)", RunStatus.FAILED)
            if self.stop.is_set():
                stopped = self._terminate(procs)
                return next((p.returncode for p in procs if p.returncode), 0), stopped
            exits.wait(0.05)  # back at once when a process ends; a stop or the timeout within 0.05 s

    def _terminate(self, procs: list[Process]) -> bool:
        """Stop every process group of the command (``kill_groups``).

        False when the command had ended by itself before the stop came: it was not stopped.
        """
        if all(proc.poll() is not None for proc in procs):
            return False
        self.say(f"stopping: {self._stop_reason()}")
        kill_groups(procs)
        return True

    def _upload_outputs(self) -> None:
        for folder in ("outputs", "logs"):
            src = self.work / folder
            if src.is_dir() and any(src.iterdir()):
                keys = self.ws.artifacts.copy_tree_in(run_key(self.run_id, folder), src)
                self.say(f"uploaded {len(keys)} file(s) from ./{folder}")
        if self.log_shipper is not None:  # the job's output is in the log before the run ends
            self.log_shipper.try_ship(self.say)

    def _close_log(self) -> None:
        """Close the log; a shipped one gets its last bytes sent (a failure told to the worker's output)."""
        self.log.close()
        if self.log_shipper is not None:
            self.log_shipper.try_ship(lambda message: print(f"[trainyard] {message}", file=sys.stderr))

    def _finish_command(self, code: int) -> None:
        """A command that ended by itself (a cancel that lands after that does not change it)."""
        if code == 0:
            info = self.store.get_run(self.run_id)  # its error: the script's own run.fail()
            self._finish(RunStatus.FAILED if info.error else RunStatus.COMPLETED, info.error, code, info)
        elif self.failed_rank is None:
            self._finish(RunStatus.FAILED, _describe_exit(code, self.log_path), code)
        else:
            error = _describe_exit(code, self.log_path, f"[rank {self.failed_rank}] ")
            self._finish(RunStatus.FAILED, f"rank {self.failed_rank}: {error}", code)

    def _finish_stopped(self, code: int | None = None) -> None:
        self._finish(self.stopped.status, self._stop_reason(), code)

    def _stop_reason(self) -> str:
        if self.stopped.status is RunStatus.CANCELED:  # whoever asked said why (a user, a sweep's policy)
            return self.store.get_run(self.run_id).cancel_reason or self.stopped.reason
        return self.stopped.reason

    def _finish(
        self,
        status: RunStatus,
        error: str | None = None,
        code: int | None = None,
        info: RunInfo | None = None,
    ) -> None:
        """End the run (compare-and-set from its status in ``info``, read now if not given)."""
        self.stop.set()
        info = info or self.store.get_run(self.run_id)
        done = self.store.set_status(self.run_id, status, error=error, exit_code=code, expected=info.status)
        if done:  # the line first: a woken follower reads the log to its end and stops there
            self.say(f"run {status.value}" + (f": {error}" if error else ""))
            notify_ended(self.ws.root, self.run_id, info.parent_id)

    # -- background ---------------------------------------------------------------------------
    def _request_stop(self, reason: str, status: RunStatus = RunStatus.CANCELED) -> None:
        if not self.stop.is_set():
            self.stopped = Stop(status, reason)
            self.stop.set()

    def _heartbeat(self) -> None:
        while not self.stop.wait(self.ws.config.heartbeat_seconds):
            try:
                if self.store.heartbeat(self.run_id, self.me):
                    self._request_stop(CANCELED_BY_USER)
            except Exception as exc:  # a store hiccup must not kill the job
                self.say(f"heartbeat failed: {exc}")


class _Exits:
    """Sleep until one of the command's processes exits (its pidfd readable) or the timeout."""

    def __init__(self, procs: list[Process]) -> None:
        self.fds: list[int] = []
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):  # a kernel before 5.3: plain sleeps
                self.fds = [os.pidfd_open(proc.pid) for proc in procs]

    def wait(self, timeout: float) -> None:
        if self.fds:
            select.select(self.fds, [], [], timeout)
        else:
            time.sleep(timeout)

    def __enter__(self) -> _Exits:
        return self

    def __exit__(self, *_: object) -> None:
        for fd in self.fds:
            os.close(fd)


def start_command(
    argv: list[str], env: dict[str, str], cwd: Path | None = None, log: BinaryIO | None = None
) -> subprocess.Popen[bytes]:
    """One process of a command, in its own process group, dying with its parent; its output
    (stderr too) into ``log``, or piped when there is none (a rank's, to prefix its lines)."""
    launcher = setpriv()
    if launcher is not None:
        _executable(argv[0], env, cwd)
    return subprocess.Popen(
        argv if launcher is None else [launcher, "--pdeathsig", "KILL", "--", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if log is None else log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent if launcher is None else None,
    )


class _NoSlot:
    """What a job that needs no slot holds (a sweep's driver, which mostly waits on its trials)."""

    def release(self) -> None:
        pass


NO_SLOT = _NoSlot()


def kill_groups(procs: list[Process]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        end = time.monotonic() + wait
        if all(_ended_by(proc, end) for proc in procs):
            break
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group


def _ended_by(proc: Process, end: float) -> bool:
    try:
        proc.wait(max(0.0, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    return True


def rank_failed(rank: int, code: int) -> str:
    """What the log says when a rank fails a distributed job (a Ray target's worker reads it back)."""
    return f"rank {rank} exited with code {code}: stopping the other ranks"


RANK_FAILED = re.compile(
    r"^\[trainyard\] rank (\d+) exited with code (-?\d+): stopping the other ranks$", re.M
)


def rank_vars(distribution: Distribution | None) -> list[dict[str, str]]:
    """The variables of each process of the command: one process with none, or a rank each
    with torchrun's ``--standalone`` environment (one node, rank 0 at 127.0.0.1 on a free port).

    The worker starts the N copies itself rather than under ``torch.distributed.run``: it works
    for any command (not only ``python script.py``, and without torch in the job's environment
    to launch it), and the worker holds each rank's process, so a failing rank is seen and the
    others stopped, and each rank's output is prefixed in the log.
    """
    if distribution is None:
        return [{}]
    count = distribution.process_count_per_instance
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return [torchrun_vars(Rank(k, k, count, count, 0), "127.0.0.1", port) for k in range(count)]


@dataclass(frozen=True)
class Rank:
    """Where one process of a distributed job sits: its rank, on its node, and the node's."""

    rank: int
    local_rank: int
    world_size: int
    local_world_size: int
    node_rank: int


def torchrun_vars(rank: Rank, master_addr: str, master_port: int) -> dict[str, str]:
    """The variables torchrun (and Azure ML) give a rank: what ``init_process_group`` reads."""
    return {
        "RANK": str(rank.rank),
        "LOCAL_RANK": str(rank.local_rank),
        "ROLE_RANK": str(rank.rank),
        "WORLD_SIZE": str(rank.world_size),
        "LOCAL_WORLD_SIZE": str(rank.local_world_size),
        "ROLE_WORLD_SIZE": str(rank.world_size),
        "MASTER_ADDR": master_addr,
        "MASTER_PORT": str(master_port),
        "NODE_RANK": str(rank.node_rank),
        "GROUP_RANK": str(rank.node_rank),
    }


def _describe_exit(code: int, log_path: Path, prefix: str = "") -> str:
    """``exit code 1: ValueError: bad alpha`` - the last line the script (the lines starting
    with ``prefix``: a rank's) printed, usually the error."""
    if code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    try:
        with open(log_path, "rb") as fh:
            fh.seek(max(0, log_path.stat().st_size - 8192))
            lines = fh.read().decode(errors="replace").splitlines()
    except OSError:
        lines = []
    lines = [
        ln.removeprefix(prefix) for ln in lines if ln.startswith(prefix) and not ln.startswith("[trainyard]")
    ]
    last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    return f"exit code {code}" + (f": {last[:500]}" if last else "")


def main(argv: list[str] | None = None, opened: Workspace | None = None) -> None:
    """Run the job of the run ``argv`` names (workspace root, run id). ``opened``: the fork
    server's workspace at that root, its store open, used while its config is what is on disk."""
    ws_root, run_id = (argv or sys.argv[1:])[:2]
    ws = opened if opened is not None and opened.config_unchanged() else Workspace(ws_root)
    Worker(ws, run_id).run()


if __name__ == "__main__":
    main()
