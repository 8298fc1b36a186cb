"""Ray target figures, each against Ray's own tool on the same local cluster in the same run.

1. Submit to first line: from ``submit_job`` (what ``trainyard job create`` calls) to the script's
   first line appearing in the run's log, on a Ray target; against ``ray job submit`` of the same
   script and working dir on the same cluster, timed to the line appearing on its output.
   Each side runs one untimed job first (Ray starts its job workers on the first).
2. A sweep of N one-second trials on the cluster (2 at a time, one per CPU): trainyard's sweep,
   its driver one Ray job and each trial a Ray task of it (``compute/ray_tasks.py``), against
   Ray Tune running the same N trials (a function trainable that sleeps 1 s and reports) on the
   same cluster.

``python benchmarks/ray_compute.py [--only submit|sweep] [--trials 200] [--repeat 5]``: the head
is started on 127.0.0.1 with ``--num-cpus 2`` and stopped at the end. Needs the ``ray`` extra
(and ``ray[tune]``, in the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402

LINE = "first line"
SCRIPT = f"print({LINE!r}, flush=True)\n"
TRIAL = """
import argparse, time
from trainyard import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
a = p.parse_args()
time.sleep(1)
Run.get_context().log("y", -(a.x - 0.3) ** 2)
"""
CPUS = 2


def submit_to_first_line(ws, src: Path, address: str, repeat: int) -> list[str]:  # noqa: ANN001
    """Seconds to the first line appearing, median of ``repeat`` after one untimed job each."""
    import trainyard as ty
    from trainyard.jobs.spec import make_job
    from trainyard.jobs.submit import submit_job

    def ours() -> float:
        start = time.perf_counter()
        run = ty.Run(ws, submit_job(ws, make_job(code=str(src), command="python s.py", compute="cluster")).id)
        while LINE not in run.log_text()[0]:
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        run.wait_for_completion(timeout_seconds=120)
        return seconds

    def theirs() -> float:
        argv = [sys.executable, "-m", "ray.scripts.scripts", "job", "submit", "--address", address]
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*argv, "--working-dir", str(src), "--", "python", "s.py"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        seconds = next(time.perf_counter() - start for line in proc.stdout if line.strip() == LINE)
        proc.communicate(timeout=120)
        return seconds

    def client() -> float:
        from ray.job_submission import JobSubmissionClient

        start = time.perf_counter()
        jobs = JobSubmissionClient(address)
        job = jobs.submit_job(entrypoint="python s.py", runtime_env={"working_dir": str(src)})
        while LINE not in jobs.get_job_logs(job):
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        while not jobs.get_job_status(job).is_terminal():
            time.sleep(0.1)
        return seconds

    sides = {"trainyard": ours, "`ray job submit`": theirs, "JobSubmissionClient": client}
    for fn in sides.values():
        fn()  # untimed: the first job on a head starts its workers
    times = {name: [fn() for _ in range(repeat)] for name, fn in sides.items()}
    mine = statistics.median(times["trainyard"])
    spread = ", ".join(f"{name} {min(t):.2f}-{max(t):.2f} s" for name, t in times.items())
    lines = [
        row(f"Ray: submit to first line (median of {repeat})", mine, name, statistics.median(t))
        for name, t in times.items()
        if name != "trainyard"
    ]
    return [*lines, f"  (ranges: {spread})"]


def sweep_against_tune(ws, src: Path, gcs: str, trials: int) -> list[str]:  # noqa: ANN001
    import ray
    from ray import tune

    import trainyard as ty

    cfg = ty.ScriptRunConfig(
        source_directory=src,
        script="train.py",
        arguments=["--x", "${{search_space.x}}"],
        compute_target="cluster",
    )
    config = ty.SweepConfig(
        cfg, {"x": ty.uniform(0, 1)}, primary_metric="y", max_total_trials=trials, max_concurrent_trials=CPUS
    )
    start = time.perf_counter()
    sweep = ty.Experiment(ws, "bench").submit(config)
    sweep.wait_for_completion(timeout_seconds=trials * 60)
    ours = time.perf_counter() - start
    done = [t for t in ws.store.search_runs(parent_id=sweep.id) if t.status is ty.RunStatus.COMPLETED]
    assert len(done) == trials, f"{len(done)} of {trials} trials completed"

    def trainable(config: dict[str, float]) -> None:
        time.sleep(1)
        tune.report({"y": -((config["x"] - 0.3) ** 2)})

    ray.init(address=gcs, log_to_driver=False)
    try:
        tuner = tune.Tuner(
            trainable,
            param_space={"x": tune.uniform(0, 1)},
            tune_config=tune.TuneConfig(
                metric="y", mode="max", num_samples=trials, max_concurrent_trials=CPUS
            ),
            run_config=tune.RunConfig(storage_path=str(src.parent / "tune"), verbose=0),
        )
        start = time.perf_counter()
        results = tuner.fit()
        theirs = time.perf_counter() - start
    finally:
        ray.shutdown()
    assert len(results) == trials and not results.errors, results.errors
    ideal = trials / CPUS  # one second a trial, two at a time
    return [
        row(f"Ray: sweep of {trials} 1-s trials, wall time", ours, "Ray Tune, same trials", theirs)
        + f"  (ideal {ideal:.0f} s)"
    ]


def main(only: str | None = None, trials: int = 200, repeat: int = 5) -> list[str]:
    from trainyard.compute import ray_target
    from trainyard.compute.ray_target import start_local_head, stop_local_head
    from trainyard.compute.targets import TargetSpec, save_target

    ray_target.READY_SECONDS = 240.0  # a shared, loaded machine can miss `ray start`'s usual 60 s
    head = start_local_head(CPUS)
    assert head.local is not None
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            ws = scratch_workspace(tmp)
            save_target(ws, "cluster", TargetSpec(address=head.address))
            src, sweep_src = tmp / "src", tmp / "sweep"
            for folder, name, body in ((src, "s.py", SCRIPT), (sweep_src, "train.py", TRIAL)):
                folder.mkdir()
                (folder / name).write_text(body)
            lines = []
            if only in (None, "submit"):
                lines += submit_to_first_line(ws, src, head.address, repeat)
            if only in (None, "sweep"):
                gcs = (Path(head.local.temp_dir) / "ray_current_cluster").read_text().strip()
                lines += sweep_against_tune(ws, sweep_src, gcs, trials)
            return lines
    finally:
        stop_local_head(head.local)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["submit", "sweep"])
    parser.add_argument("--trials", type=int, default=200, help="trials of the sweep (40 for a short run)")
    parser.add_argument("--repeat", type=int, default=5, help="timed jobs each side for submit-to-first-line")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}", flush=True)
    for line in main(args.only, args.trials, args.repeat):
        print(line, flush=True)
    print(f"load after: {os.getloadavg()}", flush=True)
