"""Ray compute targets: a run's worker hands its command to a Ray cluster's Jobs API.

The run still gets a detached local worker (``compute/ray_worker.py``), so statuses, logs,
cancel, timeout and retries work as on local compute; the cluster, not a local slot, decides
when and where the command runs. A pipeline's driver runs on this machine as on local compute:
it mostly waits, and the steps it submits to the target are what run on the cluster. A sweep's
(and a many-models run's) driver is a Ray job reserving no CPU, whose trials (partitions) are Ray
tasks of that job (``compute/ray_tasks.py``). ``start_local_head`` starts a head on 127.0.0.1 for
development and tests (``trainyard compute create NAME --type ray --local``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.compute.job import JobKind
from trainyard.compute.local import LocalCompute
from trainyard.compute.targets import LocalHead, TargetSpec
from trainyard.errors import InvalidInputError, TrainyardError

if TYPE_CHECKING:
    from ray.job_submission import JobSubmissionClient

    from trainyard.store import RunInfo
    from trainyard.workspace import Workspace

READY_SECONDS = 60.0  # how long a new head's Jobs API may take to answer
LOCAL_DRIVERS = {JobKind.PIPELINE.value}  # it submits runs to the target
STOP_GRACE_SECONDS = 5.0  # then SIGKILL: a dev head keeps nothing worth a longer wait


class RayUnreachableError(TrainyardError):
    """The Ray cluster of a target does not answer."""


class RayCompute(LocalCompute):
    worker_module = "trainyard.compute.ray_worker"
    # Not forked: the fork server must stay single-threaded, and importing Ray into it is not
    # known to; a Ray job's own start takes seconds, so the interpreter's start does not matter.
    forked = False

    def __init__(self, name: str, spec: TargetSpec) -> None:
        self.name = name
        self.spec = spec

    def client(self) -> JobSubmissionClient:
        return connect(self.spec.address)

    def submit(self, ws: Workspace, run: RunInfo) -> None:
        """A pipeline's driver runs here: its steps are Ray jobs of their own. Anything else (a
        command, an AutoML run, whose trials run in its own process, a sweep's or a many-models
        driver, which runs its children as Ray tasks and reserves no CPU) runs as a Ray job."""
        if (run.job or {}).get("type") in LOCAL_DRIVERS:
            LocalCompute().submit(ws, run)
        else:
            super().submit(ws, run)


def _ray() -> Any:
    try:
        import ray.job_submission
    except ImportError:
        raise InvalidInputError(
            "Ray targets need Ray: pip install 'trainyard[ray]' (on this machine and the cluster)"
        ) from None
    return ray.job_submission


def connect(address: str) -> JobSubmissionClient:
    """A Jobs API client of the cluster at ``address``; ``RayUnreachableError`` saying why not."""
    jobs = _ray()
    try:
        return jobs.JobSubmissionClient(address)
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        raise RayUnreachableError(f"cannot reach the Ray cluster at {address}: {first_line(exc)}") from None


@dataclass(frozen=True)
class ClusterState:
    """What ``compute show`` prints: the nodes' health and resources, and the jobs by status."""

    nodes_alive: int
    nodes_dead: int
    resources: dict[str, float]  # the alive nodes' totals
    largest_node: dict[str, float]  # the most any one node has (a job's driver runs on one node)
    jobs: dict[str, int] = field(default_factory=dict)


def cluster_state(address: str) -> ClusterState:
    """Ask the cluster (State and Jobs APIs); ``RayUnreachableError`` when it does not answer."""
    client = connect(address)
    from ray.util.state import list_nodes

    try:
        nodes = list_nodes(address=_dashboard_url(client), detail=True, raise_on_missing_output=False)
        jobs = client.list_jobs()
    except Exception as exc:  # Ray raises several kinds (RayStateApiException, ConnectionError, ...)
        raise RayUnreachableError(
            f"the Ray cluster at {address} does not answer: {first_line(exc)}"
        ) from None
    alive = [node for node in nodes if node.state == "ALIVE"]
    totals: dict[str, float] = {}
    largest: dict[str, float] = {}
    for node in alive:
        for key, value in (node.resources_total or {}).items():
            if not key.startswith("node:"):  # a node's own marker resource
                totals[key] = totals.get(key, 0.0) + value
                largest[key] = max(largest.get(key, 0.0), value)
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.status)] = counts.get(str(job.status), 0) + 1
    return ClusterState(len(alive), len(nodes) - len(alive), totals, largest, counts)


def _dashboard_url(client: JobSubmissionClient) -> str:
    return str(client.get_address())


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now (held open together so that they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def start_local_head(num_cpus: int) -> TargetSpec:
    """Start a Ray head bound to 127.0.0.1; tried twice, since a busy machine can miss Ray's own
    fixed 30 s wait for its raylet."""
    _ray()
    if num_cpus < 1:
        raise InvalidInputError(f"--num-cpus must be at least 1, got {num_cpus}")
    try:
        return _start_head(num_cpus)
    except HeadStartError:
        return _start_head(num_cpus)


class HeadStartError(TrainyardError):
    """``ray start --head`` failed, or its Jobs API never answered (the head is stopped again)."""


def _start_head(num_cpus: int) -> TargetSpec:
    """One try, in its own process group; every port is picked free (no two heads collide on
    Ray's defaults) and the temp dir is short (Ray's Unix sockets live under it, and a socket
    path is limited to 107 bytes)."""
    temp_dir = tempfile.mkdtemp(prefix="ty-ray-", dir="/tmp")
    gcs, dashboard, client, agent, agent_grpc, env_agent, metrics = free_ports(7)
    options = {
        "--node-ip-address": "127.0.0.1",
        "--port": gcs,
        "--dashboard-host": "127.0.0.1",
        "--dashboard-port": dashboard,
        "--ray-client-server-port": client,
        "--dashboard-agent-listen-port": agent,
        "--dashboard-agent-grpc-port": agent_grpc,
        "--runtime-env-agent-port": env_agent,
        "--metrics-export-port": metrics,
        "--num-cpus": num_cpus,
        "--temp-dir": temp_dir,
    }
    argv = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--disable-usage-stats"]
    argv += ["--include-dashboard=true", *(str(part) for pair in options.items() for part in pair)]
    # A job's `python` is this interpreter (with trainyard), as on local compute.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = subprocess.Popen(
        argv,
        env={**os.environ, "PATH": path},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    head = LocalHead(pgid=proc.pid, temp_dir=temp_dir, num_cpus=num_cpus)
    try:
        output, _ = proc.communicate(timeout=READY_SECONDS)
    except subprocess.TimeoutExpired:
        stop_local_head(head)
        raise HeadStartError(f"`ray start` did not finish in {READY_SECONDS:g}s") from None
    if proc.returncode != 0:
        stop_local_head(head)
        tail = output.decode(errors="replace").strip().splitlines()[-5:]
        raise HeadStartError("`ray start --head` failed:\n" + "\n".join(tail))
    spec = TargetSpec(address=f"http://127.0.0.1:{dashboard}", local=head)
    deadline = time.monotonic() + READY_SECONDS
    while True:  # the dashboard's Jobs API answers a moment after `ray start` returns
        try:
            connect(spec.address)
            return spec
        except RayUnreachableError as exc:
            if time.monotonic() > deadline:
                stop_local_head(head)
                raise HeadStartError(f"the new Ray head's Jobs API does not answer: {exc}") from None
            time.sleep(0.5)


def stop_local_head(head: LocalHead) -> None:
    """SIGTERM the head's process group, SIGKILL what is left after a grace period, remove its
    temp dir. Only this head's processes: never ``ray stop``, which stops every head of the user."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(head.pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(head.pgid):
            time.sleep(0.2)
        if not _group_alive(head.pgid):
            break
    shutil.rmtree(head.temp_dir, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies waiting for their reaper are not)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
