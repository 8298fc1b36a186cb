"""Agent pickup: how soon a job queued on a team server starts on a compute agent, against local compute.

One workspace is served over HTTP (``trainyard server``'s app on a thread) with one agent process
(``trainyard agent --compute bench``) already waiting. For each repeat the clock starts before the
submit through the server workspace (snapshot upload and run record included); "claimed" is
when the run leaves ``queued`` (watched in the server's database every 2 ms); "first line" is
the ``time.time()`` the script prints first. The baseline is the same script submitted to
``local`` compute on the server's own folder workspace: the target is pickup under 1 s and an
agent start close to a local one.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402
from submit_latency import SCRIPT, first_line_time  # noqa: E402

REPEAT = 7


def _first_line(ws, run_id: str) -> float:  # noqa: ANN001 - a Workspace
    return first_line_time(ws.artifacts.get_bytes(f"runs/{run_id}/logs/std_log.txt").decode())


def _until(ws, run_id: str, done, every: float = 0.002) -> None:  # noqa: ANN001 - Workspace, predicate
    """Wait until ``done(status)`` holds for the run, polling the server's database."""
    deadline = time.monotonic() + 60
    while not done(ws.store.get_run(run_id).status):
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} did not get there in 60 s")
        time.sleep(every)


def main() -> list[str]:
    from rich.progress import track

    from trainyard.jobs.spec import CommandJob
    from trainyard.jobs.submit import submit_job
    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.status import RunStatus
    from trainyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "src"
        src.mkdir()
        (src / "script.py").write_text(SCRIPT)
        os.environ["TRAINYARD_CACHE_DIR"] = str(tmp / "cache")
        ws = scratch_workspace(tmp)
        app = create_app(ws)
        with ThreadedServer(app) as server:
            auth = app.state.auth
            auth.add_user("bench", "contributor")
            user_token, _ = auth.create_token("bench")
            agent_token, _ = auth.create_token("bench", kind="agent")
            env = {**os.environ, "TRAINYARD_TOKEN": agent_token}
            agent = subprocess.Popen(
                [sys.executable, "-m", "trainyard.cli.main", "agent", "--server", server.url]
                + ["--compute", "bench", "--concurrency", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            os.environ["TRAINYARD_TOKEN"] = user_token
            client = Workspace.for_server(server.url)
            try:
                claimed, agent_start, local_start = [], [], []
                for i in track(range(REPEAT + 1), description="agent and local jobs"):
                    start = time.time()
                    job = CommandJob(code=str(src), command="python script.py", compute="bench")
                    run_id = submit_job(client, job).id
                    _until(ws, run_id, lambda status: status != RunStatus.QUEUED)
                    took = time.time() - start
                    _until(ws, run_id, lambda status: status.is_terminal, every=0.05)
                    start_local = time.time()
                    local = submit_job(ws, CommandJob(code=str(src), command="python script.py")).id
                    _until(ws, local, lambda status: status.is_terminal, every=0.05)
                    if i == 0:  # warm-up: the agent's first claim and the server's first requests
                        continue
                    claimed.append(took)
                    agent_start.append(_first_line(ws, run_id) - start)
                    local_start.append(_first_line(ws, local) - start_local)
            finally:
                agent.terminate()
                agent.wait(30)
                app.state.job_queue.stop()
    c, a, loc = (statistics.median(v) for v in (claimed, agent_start, local_start))
    return [
        row(f"submit to claimed by an agent (median of {REPEAT})", c, "target", 1.0),
        row(
            f"submit to first line, agent (median of {REPEAT})",
            a,
            "local compute, same script",
            loc,
            added=True,
        ),
    ]


if __name__ == "__main__":
    print("\n".join(main()))
