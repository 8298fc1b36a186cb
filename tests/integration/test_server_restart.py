"""Load and faults on PostgreSQL (RELIABILITY rows 20, 21, 27): 50 clients log metrics while the
server process is killed and started again, and a job keeps running through a restart. Clients
retry with backoff; nothing logged before or after the restart is lost. Latencies are printed
(``-s``), not asserted: the figures live in benchmarks/ and docs/server.md.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.server_helpers import ServerProcess, agent_process
from tests.integration.test_jobs import wait_for
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import submit_job
from trainyard.status import RunStatus
from trainyard.store import Metric
from trainyard.store.rest import RestStore
from trainyard.store.sql.store import SqlStore
from trainyard.workspace import Workspace

CLIENTS = 50
SECONDS = 8.0
RESTART_AT = 3.0

LONG_TRAIN = """
import time
from trainyard import Run
run = Run.get_context()
for step in range(30):
    run.log("loss", 1.0 / (step + 1), step=step)
    run.flush()
    time.sleep(0.15)
print("done", flush=True)
"""


class Served:
    def __init__(self, folder: Path, pg_uri: str) -> None:
        self.process = ServerProcess(folder, pg_uri)
        self.process.start()  # migrates the fresh database
        self.db = SqlStore(pg_uri)
        auth = self.db
        auth.add_user("ada", "contributor")
        self.token = auth.create_token("ada")[0]
        self.agent_token = auth.create_token("ada", kind="agent")[0]
        self.url = self.process.url


@pytest.fixture
def served(tmp_path: Path, pg_uri: str) -> Iterator[Served]:
    srv = Served(tmp_path / "server", pg_uri)
    yield srv
    srv.process.stop()
    srv.db.close()


def test_fifty_clients_log_through_a_server_restart(served: Served) -> None:
    setup = RestStore(served.url, token=served.token)
    exp = setup.create_experiment("load")
    runs = [setup.create_run(exp.id, status=RunStatus.RUNNING).id for _ in range(CLIENTS)]
    sent = [0] * CLIENTS
    latencies: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def client(i: int) -> None:
        store = RestStore(served.url, token=served.token, retry_seconds=60)
        try:
            while not stop.is_set():
                step = sent[i]
                start = time.perf_counter()
                store.log_metric(runs[i], Metric("loss", step * 0.5, step, time.time()))
                latencies.append(time.perf_counter() - start)
                sent[i] = step + 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(RESTART_AT)
    before = sum(sent)
    served.process.restart()  # SIGKILL, then start again on the same port
    time.sleep(SECONDS - RESTART_AT)
    stop.set()
    for t in threads:
        t.join(90)
    assert not errors, errors[:3]
    assert sum(sent) > before > 0, "clients logged both before and after the restart"
    for i, run_id in enumerate(runs):
        history = served.db.get_metric_history(run_id, "loss")
        steps = [m.step for m in history]  # each exactly once: a batch whose reply was lost is not re-stored
        assert steps == list(range(sent[i])), f"client {i}: {len(steps)} values stored, {sent[i]} sent"
        assert all(m.value == m.step * 0.5 for m in history)
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\n{len(latencies)} values from {CLIENTS} clients in {SECONDS:.0f} s through a restart; "
        f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {max(latencies):.2f} s"
    )
    setup.close()


def test_a_running_job_completes_through_a_server_restart(
    served: Served, script_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001 - fixtures
    src = script_dir({"train.py": LONG_TRAIN})
    cache = str(tmp_path / "agent-cache")
    log = tmp_path / "agent.log"
    with agent_process(served.url, served.agent_token, log, "--compute", "cpu", TRAINYARD_CACHE_DIR=cache):
        monkeypatch.setenv("TRAINYARD_TOKEN", served.token)
        monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "client-cache"))
        client = Workspace.from_config(served.url)
        job = CommandJob(code=str(src), command="python train.py", compute="cpu", experiment_name="restart")
        run_id = submit_job(client, job).id
        wait_for(lambda: len(served.db.get_metric_history(run_id, "loss")) >= 5, timeout=60)
        served.process.restart()
        wait_for(lambda: served.db.get_run(run_id).status.is_terminal, timeout=90)
    info = served.db.get_run(run_id)
    assert info.status == RunStatus.COMPLETED, (info.error, log.read_text()[-2000:])
    assert [m.step for m in served.db.get_metric_history(run_id, "loss")] == list(range(30))
