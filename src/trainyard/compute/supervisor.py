"""The local supervisor: the reaper on a timer for an embedded workspace, so nobody has to look.

A killed worker cannot report its own death, and an embedded workspace has no server process to
notice; so ``LocalCompute.submit`` starts one detached ``python -m trainyard.compute.reaper
<workspace>`` with the first job (``reaper.supervise``). It reaps every quarter of
``heartbeat_timeout_seconds`` and exits once no run has a worker left to lose.

One runs per workspace: it holds ``compute/supervisor.lock`` (``flock``, freed by the kernel if
it dies), and one started while the lock is held exits at once. Before exiting it lets go of the
lock and looks at the runs once more; a submitter writes its run before it probes the lock, so
either the leaving supervisor sees the new run (and takes the lock back, or finds that a new
one has it) or the submitter finds the lock free and starts a new one: a job is never left
unsupervised.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.compute.slots import try_lock

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


def lock_path(ws: Workspace) -> Path:
    return ws.root / "compute" / "supervisor.lock"


def ensure_running(ws: Workspace) -> None:
    """Start a supervisor unless one holds the lock (call it after the run is in the store)."""
    start_detached(lock_path(ws), "trainyard.compute.reaper", ws.root)


def start_detached(lock: Path, module: str, root: Path) -> None:
    """Start ``python -m module root`` unless a process holds ``lock`` (which the module takes)."""
    probe = try_lock(lock)
    if probe is None:  # one is running; a supervisor looks at the runs again before it leaves
        return
    probe.release()
    with open(lock.with_suffix(".log"), "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", module, str(root)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the submitter, like the workers
            close_fds=True,
        )
