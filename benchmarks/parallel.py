"""Parallel job figures: the runner against a plain loop in one process, in the same run.

Scores 2,000 small files (10 per mini-batch) and a 200,000-row CSV table (10,000 rows per
mini-batch) with an entry script whose ``run()`` does almost nothing (the runner's own cost:
splitting, spawning workers, sending mini-batches, writing and joining the output), and the same
files with a ``run()`` that spends about 1 ms of CPU per file (where a second worker should pay).
Each is timed with 1 and 2 workers (``run_parallel``, the runner's function, so no interpreter
start) and as a plain Python loop that imports the script and calls ``run()`` on the same
mini-batches, writing the same lines. Median of ``--repeat`` runs.

    PYTHONPATH=src python benchmarks/parallel.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trainyard.parallel.rows import result_lines
from trainyard.parallel.runner import run_parallel
from trainyard.parallel.settings import ParallelSettings

FILES = 2000
ROWS = 200_000
TRIVIAL = """
def init():
    pass

def run(mini_batch):
    if isinstance(mini_batch, list):
        return [f"{p},{len(open(p).read())}" for p in mini_batch]
    return mini_batch.assign(y=mini_batch["x"] * 2)
"""
BUSY = """
def run(mini_batch):
    out = []
    for p in mini_batch:
        total = sum(i * i for i in range(20_000))  # about 1 ms of CPU
        out.append(f"{p},{len(open(p).read())},{total}")
    return out
"""


def plain_loop(script: Path, data: Path, per_batch: int, output: Path) -> None:
    """What a user writes without the runner: import the script, loop, write the lines."""
    spec = importlib.util.spec_from_file_location("bench_entry", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "init"):
        module.init()
    import pandas as pd

    if data.is_dir():
        items: list[str] | pd.DataFrame = [str(p) for p in sorted(data.rglob("*")) if p.is_file()]
    else:
        items = pd.read_csv(data)
    with open(output, "w") as out:
        for start in range(0, len(items), per_batch):
            chunk = (
                items[start : start + per_batch]
                if isinstance(items, list)
                else items.iloc[start : start + per_batch]
            )
            out.write(result_lines(module.run(chunk))[0])


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def case(tmp: Path, name: str, body: str, data: Path, per_batch: int, repeat: int) -> list[str]:
    """The loop and the runner with 1 and 2 workers, taken in turn ``repeat`` times (so a busy
    moment on a shared machine falls on all three alike); the median of each."""
    script = tmp / f"{name}.py"
    script.write_text(body)
    loop_way, loop_out = "plain loop, one process", tmp / "loop.txt"
    ways: dict[str, Callable[[], object]] = {loop_way: lambda: plain_loop(script, data, per_batch, loop_out)}
    outputs = {loop_way: loop_out}
    for workers in (1, 2):
        settings = ParallelSettings.model_validate(
            {
                "task": {"entry_script": str(script)},
                "mini_batch_size": per_batch,
                "max_concurrency_per_instance": workers,
            }
        )
        way, out = f"runner, {workers} worker(s)", tmp / f"out-{workers}"
        ways[way] = lambda s=settings, o=out: run_parallel(s, data, o, progress_bar=False)
        outputs[way] = out / "parallel_run_step.txt"
    times: dict[str, list[float]] = {way: [] for way in ways}
    with contextlib.redirect_stdout(io.StringIO()):  # the progress lines
        for _ in range(repeat):
            for way, fn in ways.items():
                times[way].append(seconds(fn))
    loop = statistics.median(times[loop_way])
    lines = []
    for way, taken in times.items():
        median = statistics.median(taken)
        line = f"{name:<32} {way:<26} {median * 1000:7.0f} ms"
        if way != loop_way:
            same = outputs[way].read_text() == loop_out.read_text()
            line += f"   {median / loop:5.2f}x the loop   same output: {same}"
        lines.append(line)
    return lines


def main(repeat: int = 3) -> list[str]:
    import pandas as pd  # not at the top: each spawned worker imports this module again

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        files = tmp / "files"
        files.mkdir()
        for i in range(FILES):
            (files / f"{i:05d}.txt").write_text(f"item {i}\n")
        table = tmp / "rows.csv"
        pd.DataFrame({"id": range(ROWS), "x": [i % 97 for i in range(ROWS)]}).to_csv(table, index=False)
        return [
            # the table first: the fork server starts once per process, with pandas for a table
            *case(tmp, f"{ROWS} rows, trivial run()", TRIVIAL, table, 10_000, repeat),
            *case(tmp, f"{FILES} files, trivial run()", TRIVIAL, files, 10, repeat),
            *case(tmp, f"{FILES} files, ~1 ms CPU per file", BUSY, files, 10, repeat),
        ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    for line in main(parser.parse_args().repeat):
        print(line, flush=True)
    sys.exit(0)
