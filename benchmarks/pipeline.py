"""Pipeline figures, each against its baseline in the same run.

1. Orchestration overhead per step: a chain of 20 no-op command steps (each reads the output
   of the one before) as a trainyard pipeline, vs the same 20 scripts launched one after the
   other by a shell loop, vs a Prefect flow of 20 tasks each launching the script. Prefect runs
   in a venv of its own (pip downgrades FastAPI under trainyard's server when both share one):
   ``--prefect`` makes one under the system's temporary folder the first time (``pip install
   prefect``: 10 minutes on a loaded 2-core machine) and reuses it after; ``PREFECT_PYTHON``
   names another interpreter with Prefect. Without either, no Prefect row.
2. A 50-step fan-out/fan-in pipeline submitted twice: the second submit, every step reused,
   timed from submit to the pipeline's end.

    PYTHONPATH=. python benchmarks/pipeline.py [--prefect] [--only-chain]

With ``TRAINYARD_FORK_SERVER_IDLE_SECONDS=0`` every step's worker is a new interpreter, as before
the fork server (``compute/forkserver.py``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402

NOOP = """
import pathlib, sys
if len(sys.argv) > 2:
    (pathlib.Path(sys.argv[2]) / "done").write_text(sys.argv[1])
"""
PREFECT_FLOW = """
import subprocess, sys
from prefect import flow, task

@task
def step(i):
    subprocess.run([sys.executable, "noop.py", str(i)], check=True)
    return i

@flow
def chain(n):
    for i in range(n):
        step(i)

chain(int(sys.argv[1]))
"""
CHAIN = 20
FAN = 48
PREFECT_REQUIREMENT = "prefect>=3.9,<3.10"
PREFECT_VENV = Path(tempfile.gettempdir()) / "trainyard-bench-prefect"


def prefect_python() -> str | None:
    """The interpreter of a cached venv with Prefect, made (``pip install prefect``) when missing;
    None, saying why, when it cannot be made."""
    python = PREFECT_VENV / "bin" / "python"
    found = python.exists() and subprocess.run([python, "-c", "import prefect"], capture_output=True)
    if found and found.returncode == 0:
        return str(python)
    print(f"installing {PREFECT_REQUIREMENT} into {PREFECT_VENV} (once; minutes)", flush=True)
    steps = (
        [sys.executable, "-m", "venv", "--clear", str(PREFECT_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PREFECT_REQUIREMENT],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"cannot make the Prefect venv ({' '.join(step[:4])}...): {done.stderr.strip()[-300:]}")
            return None
    return str(python)


def chain_spec(n: int) -> dict:
    jobs: dict = {}
    for i in range(n):
        step = {"code": "src", "command": "python noop.py x ${{outputs.o}}", "outputs": {"o": {}}}
        if i:
            step["command"] = "python noop.py ${{inputs.prev}} ${{outputs.o}}"
            step["inputs"] = {"prev": f"${{{{parent.jobs.s{i - 1}.outputs.o}}}}"}
        jobs[f"s{i}"] = step
    return {"type": "pipeline", "experiment_name": "bench-chain", "jobs": jobs}


def fan_spec(n: int) -> dict:
    jobs: dict = {"root": {"code": "src", "command": "python noop.py r ${{outputs.o}}", "outputs": {"o": {}}}}
    for i in range(n):
        jobs[f"w{i}"] = {
            "code": "src",
            "command": f"python noop.py {i} ${{{{outputs.o}}}} ${{{{inputs.r}}}}",
            "inputs": {"r": "${{parent.jobs.root.outputs.o}}"},
            "outputs": {"o": {}},
        }
    jobs["join"] = {
        "code": "src",
        "command": "python noop.py j ${{outputs.o}} " + " ".join(f"${{{{inputs.w{i}}}}}" for i in range(n)),
        "inputs": {f"w{i}": f"${{{{parent.jobs.w{i}.outputs.o}}}}" for i in range(n)},
        "outputs": {"o": {}},
    }
    return {"type": "pipeline", "experiment_name": "bench-fan", "jobs": jobs}


def run_pipeline(ws, root: Path, spec: dict) -> float:  # noqa: ANN001 - a Workspace
    import trainyard as ty
    from trainyard.pipelines import load_pipeline
    from trainyard.pipelines.submit import submit_pipeline

    path = root / f"{spec['experiment_name']}.yml"
    path.write_text(yaml.safe_dump(spec))
    start = time.perf_counter()
    run = ty.Run(ws, submit_pipeline(ws, load_pipeline(path)).id)
    run.wait_for_completion(timeout_seconds=900)
    return time.perf_counter() - start


def shell_loop(src: Path, n: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["bash", "-c", f"for i in $(seq {n}); do {sys.executable} noop.py $i; done"], cwd=src, check=True
    )
    return time.perf_counter() - start


def prefect_flow(python: str | None, src: Path, n: int) -> float | None:
    if python is None:
        return None
    (src / "flow.py").write_text(textwrap.dedent(PREFECT_FLOW))
    env = {
        **os.environ,
        "PREFECT_HOME": str(src / ".prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",  # a loaded machine starts it slowly
    }
    start = time.perf_counter()
    done = subprocess.run([python, "flow.py", str(n)], cwd=src, env=env, capture_output=True)
    if done.returncode != 0:
        print(f"prefect flow failed or prefect is missing ({python}): {done.stderr.decode()[-300:]}")
        return None
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefect", action="store_true", help="make (once) and use a venv with Prefect")
    parser.add_argument("--only-chain", action="store_true", help="the 20-step chain only, not the fan-out")
    args = parser.parse_args()
    python = prefect_python() if args.prefect else os.environ.get("PREFECT_PYTHON")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "src"
        src.mkdir()
        (src / "noop.py").write_text(textwrap.dedent(NOOP))
        ws = scratch_workspace(root)
        os.chdir(root)
        # warm-ups: the workspace's first job starts its supervisor, Prefect's first flow makes its database
        run_pipeline(ws, root, {**chain_spec(1), "experiment_name": "warm-up"})
        prefect_flow(python, src, 1)
        ours = run_pipeline(ws, root, chain_spec(CHAIN))
        shell = shell_loop(src, CHAIN)
        prefect = prefect_flow(python, src, CHAIN)
        print(f"{CHAIN}-step chain: trainyard {ours:.2f}s, shell loop {shell:.2f}s", end="")
        print(f", prefect {prefect:.2f}s" if prefect is not None else "")
        print(f"  overhead per step over the shell loop: {(ours - shell) / CHAIN * 1000:.0f} ms")
        print(row(f"{CHAIN}-step chain", ours, "shell loop", shell))
        if prefect is not None:
            print(row(f"{CHAIN}-step chain", ours, "Prefect flow", prefect))
        if args.only_chain:
            ws.close()
            return

        first = run_pipeline(ws, root, fan_spec(FAN))
        second = run_pipeline(ws, root, fan_spec(FAN))
        print(f"{FAN + 2}-step fan-out/fan-in: first submit {first:.2f}s, again (all reused) {second:.2f}s")
        ws.close()


if __name__ == "__main__":
    main()
