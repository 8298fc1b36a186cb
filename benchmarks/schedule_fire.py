"""Schedule firing: from a schedule's due time to its pipeline run queued in the store (the parent
run's ``created_at``), p50 and p95 over N firings of an ``every`` schedule of a published
one-step pipeline. Side by side: one ``Scheduler`` loop; two loops on one store (two server
processes: each due time still fires once); and the floor, ``start_pipeline`` called straight
at the due time (what queueing a run costs with no scheduler at all).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/schedule_fire.py [--firings 20] [--every 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml

from benchmarks._common import scratch_workspace

PIPELINE = {
    "type": "pipeline",
    "experiment_name": "scheduled",
    "jobs": {"noop": {"command": "python -c pass"}},
}


def percentiles(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})"


def scheduled(ws, name: str, loops: int, firings: int, every: float) -> list[float]:  # noqa: ANN001
    """Latencies of ``firings`` due times of a new schedule fired by ``loops`` Scheduler loops."""
    from trainyard.pipelines.schedules import Scheduler
    from trainyard.workspace import Workspace

    ws.store.create_schedule(
        name, pipeline="bench", trigger="every", spec=repr(every), next_fire=time.time() + every
    )
    spaces = [ws] + [Workspace(ws.root) for _ in range(loops - 1)]  # each its own store connection
    stop = threading.Event()
    threads = [threading.Thread(target=Scheduler(w).run, args=(stop,)) for w in spaces]
    for t in threads:
        t.start()
    deadline = time.time() + firings * every + 60
    while len(ws.store.list_schedule_firings(name, limit=firings + 5)) < firings and time.time() < deadline:
        time.sleep(0.2)
    ws.store.set_schedule_enabled(name, False)
    stop.set()
    for t in threads:
        t.join()
    for w in spaces[1:]:
        w.close()
    done = ws.store.list_schedule_firings(name, limit=1000)
    assert len({f.due for f in done}) == len(done), "a due time fired twice"
    assert all(f.run_id for f in done), [f.error for f in done]
    return [ws.store.get_run(f.run_id).created_at - f.due for f in done]  # type: ignore[arg-type]


def direct(ws, firings: int, every: float) -> list[float]:  # noqa: ANN001
    """``start_pipeline`` at each due time: the floor a scheduler cannot beat."""
    from trainyard.pipelines.submit import PipelineRecord, start_pipeline

    record = PipelineRecord.model_validate(ws.store.get_published_pipeline("bench").pipeline)
    out = []
    due = time.time() + every
    for _ in range(firings):
        time.sleep(max(0.0, due - time.time()))
        out.append(start_pipeline(ws, record).created_at - due)
        due += every
    return out


def wait_all(ws) -> None:  # noqa: ANN001
    from trainyard.status import RunStatus

    deadline = time.time() + 300
    active = {RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING}
    while any(r.status in active for r in ws.store.search_runs()) and time.time() < deadline:
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--firings", type=int, default=20)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between due times")
    args = parser.parse_args()
    from trainyard.pipelines.published import publish

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws = scratch_workspace(tmp)
        (tmp / "p.yml").write_text(yaml.safe_dump(PIPELINE))
        publish(ws, tmp / "p.yml", "bench")
        one = scheduled(ws, "one-loop", 1, args.firings, args.every)
        two = scheduled(ws, "two-loops", 2, args.firings, args.every)
        floor = direct(ws, args.firings, args.every)
        print(f"due time -> run queued, every {args.every:g} s, a one-step published pipeline")
        print(f"one Scheduler loop:            {percentiles(one)}")
        print(f"two loops on one store:        {percentiles(two)}")
        print(f"start_pipeline at the due time: {percentiles(floor)}  (no scheduler: the floor)")
        wait_all(ws)
        ws.close()


if __name__ == "__main__":
    main()
