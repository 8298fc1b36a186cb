"""The worker process of a run an agent claimed (``compute/agent.py`` starts it):
``python -m trainyard.compute.agent_worker URL RUN DIR [RAY_ADDRESS]``.

Without a Ray address it is the local worker against the server workspace, its log appended
to the server's as it grows. With one (``trainyard agent --ray``) it is a Ray target's worker
(``ray_worker.py``), whose command is a Ray job of that cluster, logging to the server by its
URL and the run's job token. Its own module, so that the agent (which ``trainyard.compute``
imports for its queues) does not import the Ray worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trainyard.compute.worker import Worker
from trainyard.workspace import Workspace


def main(argv: list[str] | None = None) -> None:
    server, run_id, job_dir, *ray = argv or sys.argv[1:]
    ws = Workspace.from_config(server)
    worker = Worker(ws, run_id, Path(job_dir)) if not ray else _ray_worker(ws, run_id, Path(job_dir), ray[0])
    worker.run_held()


def _ray_worker(ws: Workspace, run_id: str, job_dir: Path, address: str) -> Worker:
    from trainyard.compute.ray_target import RayCompute
    from trainyard.compute.ray_worker import RayWorker
    from trainyard.compute.targets import TargetSpec

    name = ws.store.get_run(run_id).compute or "ray"  # its queue's name: the jobs' RAY_TARGET_VAR
    return RayWorker(ws, run_id, RayCompute(name, TargetSpec(address=address)), job_dir)


if __name__ == "__main__":
    main()
