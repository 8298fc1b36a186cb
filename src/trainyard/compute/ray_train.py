"""The driver of a distributed PyTorch job on a Ray target: the Ray job's entrypoint.

``python -m trainyard.compute.ray_train --ranks N [--cpu C --gpu G --memory B] -- COMMAND...``
runs a Ray Train ``TorchTrainer`` with N workers. Each worker runs the job's command, unchanged,
as a subprocess with the variables torchrun and Azure ML set (``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``, ...), so a script that calls
``init_process_group`` itself trains as it does on local compute.

Why a subprocess and a rendezvous of its own: Ray Train sets up a process group in each worker
for its own train loop, and its TCP store holds ``MASTER_PORT`` in worker 0. The user's script
makes a second group, so worker 0 picks another free port on its node and Ray Train's
``broadcast_from_rank_zero`` hands it to the others. A subprocess (not ``runpy``) also runs any
command, keeps the script's ``sys.exit`` and crashes out of the Ray worker, and dies with the
worker (``PR_SET_PDEATHSIG``) when Ray stops it.

The ranks' output reaches this driver through a Ray queue, each line prefixed ``[rank K]``. The
driver prints the lines, so they are in the Ray job's log, which the run's worker copies into the
run's log. Ray's own forwarding of worker output is turned off: it adds its own prefix and
folds lines that differ only in their numbers, such as the ranks' lines. The first rank that exits non-zero
fails the job (``FailureConfig(max_failures=0)``): Ray Train stops the other workers and the
driver exits with that rank's code, after a ``rank K exited with code C`` line that the run's
worker reads back (``worker.RANK_FAILED``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
from typing import Any

from trainyard.compute.worker import Rank, kill_groups, rank_failed, start_command, torchrun_vars

POLL_SECONDS = 0.1  # how often the driver takes the ranks' lines from the queue


class RankFailedError(RuntimeError):
    """A rank's command exited non-zero: what fails the Ray Train run."""


def driver_argv(ranks: int, cpu: float, gpu: float, memory: int | None, command: list[str]) -> list[str]:
    """The entrypoint that runs ``command`` as ``ranks`` ranks (``main`` parses it back)."""
    argv = ["python", "-m", "trainyard.compute.ray_train", "--ranks", str(ranks), "--cpu", f"{cpu:g}"]
    argv += ["--gpu", f"{gpu:g}"] + (["--memory", str(memory)] if memory else [])
    return [*argv, "--", *command]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trainyard.compute.ray_train")
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--cpu", type=float, default=1.0)
    parser.add_argument("--gpu", type=float, default=0.0)
    parser.add_argument("--memory", type=int, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    sys.exit(train(args.ranks, _per_worker(args.cpu, args.gpu, args.memory), command))


def _per_worker(cpu: float, gpu: float, memory: int | None) -> dict[str, float]:
    wanted = {"CPU": cpu, "GPU": gpu, "memory": float(memory or 0)}
    return {key: value for key, value in wanted.items() if value}


def train(ranks: int, per_worker: dict[str, float], command: list[str]) -> int:
    """Run ``command`` as ``ranks`` ranks under a TorchTrainer; the exit code of the job."""
    os.environ["RAY_TRAIN_V2_ENABLED"] = "1"  # broadcast_from_rank_zero is Ray Train v2's
    os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = "0"  # the ranks run in the job's working_dir, the code
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig, TrainingFailedError
    from ray.train.torch import TorchConfig, TorchTrainer
    from ray.util.queue import Queue

    ray.init(log_to_driver=False)
    lines = Queue(actor_options={"num_cpus": 0})
    printer = _Printer(lines)
    printer.start()
    storage = tempfile.mkdtemp(prefix="ty-train-")  # Ray Train's run folder: no checkpoints in it
    trainer = TorchTrainer(
        _rank_main,
        train_loop_config={"command": command, "lines": lines},
        scaling_config=ScalingConfig(
            num_workers=ranks, use_gpu=per_worker.get("GPU", 0) > 0, resources_per_worker=per_worker
        ),
        torch_config=TorchConfig(backend="gloo"),  # Ray Train's own group only passes the address
        run_config=RunConfig(storage_path=storage, failure_config=FailureConfig(max_failures=0)),
    )
    error: Exception | None = None
    try:
        trainer.fit()
    except TrainingFailedError as exc:
        error = exc
    finally:
        printer.finish()
        shutil.rmtree(storage, ignore_errors=True)
    if printer.failed is not None:
        return printer.failed[1] if printer.failed[1] > 0 else 1
    if error is not None:
        print(f"Ray Train failed: {str(error).strip().splitlines()[0]}", flush=True)
        return 1
    return 0


class _Printer(threading.Thread):
    """Prints the ranks' lines as they come; notes (and says) the first rank that failed."""

    def __init__(self, lines: Any) -> None:
        super().__init__(daemon=True)
        self.lines = lines
        self.done = threading.Event()
        self.failed: tuple[int, int] | None = None

    def run(self) -> None:
        while not self.done.is_set():
            if not self._drain():
                self.done.wait(POLL_SECONDS)
        self._drain()

    def finish(self) -> None:
        self.done.set()
        self.join()

    def _drain(self) -> bool:
        items = self.lines.get_nowait_batch(self.lines.qsize())
        for rank, line, code in items:
            if line is not None:
                print(f"[rank {rank}] {line}", flush=True)
            elif self.failed is None:
                self.failed = (rank, code)
                print(f"[trainyard] {rank_failed(rank, code)}", flush=True)
        return bool(items)


def _rank_main(config: dict[str, Any]) -> None:
    """One rank (runs in a Ray Train worker): the command with torchrun's variables."""
    from ray.train import get_context
    from ray.train.collective import broadcast_from_rank_zero

    ctx = get_context()
    me = Rank(
        ctx.get_world_rank(), ctx.get_local_rank(), ctx.get_world_size(), ctx.get_local_world_size(),
        ctx.get_node_rank(),
    )  # fmt: skip
    addr, port = broadcast_from_rank_zero(_rendezvous() if me.rank == 0 else None)
    env = {"OMP_NUM_THREADS": "1", **os.environ, **torchrun_vars(me, addr, port)}
    lines = config["lines"]
    proc = start_command(config["command"], env)  # in the job's working dir, Ray's cwd
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put((me.rank, raw.decode(errors="replace").rstrip("\r\n"), None))
        code = proc.wait()
    finally:
        kill_groups([proc])  # what the command left running (all of it, if this worker is stopping)
    if code != 0:
        lines.put((me.rank, None, code))
        raise RankFailedError(f"rank {me.rank}: exit code {code}")


def _rendezvous() -> tuple[str, int]:
    """Rank 0's node address and a port free on it now: the script's ``MASTER_ADDR``/``PORT``."""
    import ray

    addr = ray.util.get_node_ip_address()
    with socket.socket() as sock:
        sock.bind((addr, 0))
        return addr, sock.getsockname()[1]


if __name__ == "__main__":
    main()
