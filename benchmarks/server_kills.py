"""Metrics through a server killed with SIGKILL and restarted: every value stored exactly once.

``--clients`` threads (8 by default, for a small machine; 50 on a big one), each with its own
client and run, log values through the SDK's buffer (``MetricBuffer`` over ``RestStore``, as
``run.log`` does in a script) to ``trainyard server`` in a subprocess, which is killed with -9
and started again on the same port ``--kills`` times (3) while they log. A batch whose reply
is lost in a kill is re-sent under its batch id and must not be stored twice; none may be lost.
Prints values sent vs stored, duplicates, values lost and the downtime of each restart.

The store is the server workspace's SQLite file, or ``--postgres`` (a scratch database on
127.0.0.1:5432, ``$BENCH_PG_ADMIN`` overrides the admin URI). Exits 1 unless sent == stored.
Run: ``.venv/bin/python benchmarks/server_kills.py [--clients 50] [--postgres]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _server import database, started  # noqa: E402

from trainyard.api import routes  # noqa: E402
from trainyard.server.running import free_port  # noqa: E402


def client(url: str, token: str, run_id: str, stop: threading.Event, sent: list[int], i: int) -> None:
    """Log one value at a time until ``stop``, then flush until the buffer is empty."""
    from trainyard.store import Metric
    from trainyard.store.rest import RestStore
    from trainyard.tracking.buffer import MetricBuffer

    store = RestStore(url, token=token, retry_seconds=60)
    buffer = MetricBuffer(store, interval=0.1)
    step = 0
    while not stop.is_set():
        buffer.add(run_id, Metric("loss", step * 0.5, step, time.time()))
        step += 1
        sent[i] = step
        time.sleep(0.005)
    deadline = time.monotonic() + 120
    while True:
        try:
            buffer.flush()
            break
        except Exception:  # the server is still down: the same batches again, under the same ids
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="logging clients (50 on a big machine)")
    parser.add_argument("--kills", type=int, default=3, help="times the server is killed and restarted")
    parser.add_argument("--every", type=float, default=3.0, help="seconds of logging between kills")
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL store instead of SQLite")
    args = parser.parse_args()

    from trainyard.status import RunStatus
    from trainyard.store.rest import RestStore
    from trainyard.store.server import server_part
    from trainyard.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="trainyard-kills-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        uri = stack.enter_context(database(f"bench_kills_{os.getpid()}")) if args.postgres else None
        ws = Workspace.create(tmp / "ws", store=uri)
        part = server_part(ws.store)
        part.add_user("bench", "contributor")
        token = part.create_token("bench")[0]
        db = ws.store
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "trainyard", "server", "-w", str(ws.root.parent), "--port", str(port)]
        log = tmp / "server.log"
        proc = started(argv, url + routes.HEALTH.template, log)

        setup = RestStore(url, token=token)
        exp = setup.create_experiment("kills")
        runs = [setup.create_run(exp.id, status=RunStatus.RUNNING).id for _ in range(args.clients)]
        setup.close()
        sent = [0] * args.clients
        errors: list[BaseException] = []
        stop = threading.Event()

        def guarded(i: int) -> None:
            try:
                client(url, token, runs[i], stop, sent, i)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(i,)) for i in range(args.clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        downtimes = []
        try:
            for _ in range(args.kills):
                time.sleep(args.every)
                killed = time.monotonic()
                proc.kill()
                proc.wait(20)
                proc = started(argv, url + routes.HEALTH.template, log)
                downtimes.append(time.monotonic() - killed)
            time.sleep(args.every)
            stop.set()
            for t in threads:
                t.join(180)
            seconds = time.monotonic() - began
        finally:
            stop.set()
            proc.terminate()
            proc.wait(30)
        duplicates = lost = stored = 0
        for i, run_id in enumerate(runs):
            steps = Counter(m.step for m in db.get_metric_history(run_id, "loss"))
            stored += sum(steps.values())
            duplicates += sum(n - 1 for n in steps.values())
            lost += sum(1 for step in range(sent[i]) if step not in steps)
        ws.close()

    print(
        f"{args.clients} clients, {args.kills} kills (-9) of the server, {seconds:.0f} s, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}: values sent {sum(sent)}, stored {stored}, "
        f"duplicates {duplicates}, lost {lost}; restarts took "
        + ", ".join(f"{d:.1f}" for d in downtimes)
        + " s"
    )
    if errors:
        print(f"client errors: {errors[:3]}")
    return 0 if stored == sum(sent) and not duplicates and not lost and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
