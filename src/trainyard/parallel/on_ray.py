"""A parallel job's workers as Ray actors, when its runner runs as a Ray job on a Ray target.

The runner is the Ray job's driver (it reserves no CPU: ``ray_worker.job_cpus``); its scheduler
is the same as on this machine (``runner.Scheduler``), with this pool under it. Each worker is
an actor asking for one CPU, placed with Ray's ``SPREAD`` strategy, so ``instance_count`` x
``max_concurrency_per_instance`` actors are spread over the cluster's nodes. An actor imports
the entry script and calls ``init()`` once (``worker.EntryScript``, as a worker process does),
then runs the mini-batches it is sent, one at a time, in the order they were sent: the runner
keeps two at each actor, one running and one waiting, as it does in a worker process's pipe.
``run()``'s rows come back to the runner with the result, which writes the part file, so the
output never depends on a disk the actors share.

What must be shared: a mini-batch of a folder of files is a list of paths on the runner's node,
and each actor opens them where it runs. On a cluster on one machine (a ``--local`` head) they
are the same disk; on a cluster of several machines the input must be at the same path on every
node (a shared file system). A table's mini-batches travel as DataFrames and need nothing shared.

An actor that dies fails its running mini-batch's try (Ray's reason as the why) and is replaced;
a timed-out one is killed (``ray.kill``) and replaced; the actors die with the job's driver.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from trainyard.compute.ray_target import first_line
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.parallel.batches import MiniBatch
from trainyard.parallel.pool import Heard, Worker, WorkerGone, WorkerPool
from trainyard.parallel.rows import write_part
from trainyard.parallel.worker import EntryScript, WorkerSpec, describe

CPUS_PER_ACTOR = 1.0
LOG = logging.getLogger("trainyard.parallel")


class RayPoolError(TrainyardError):
    """The job's actors cannot run on its Ray target: more than the cluster holds, or no Ray."""


class ParallelActor:
    """One worker of a parallel job, as a Ray actor (``ray.remote`` makes it one in ``ActorPool``)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.script: EntryScript | None = None

    def start(self) -> tuple[Any, ...]:
        """Import the entry script, call ``init()``: ``("ready", pid, node)``, ``("init_failed", why)``."""
        import ray

        logging.basicConfig(
            level=self.spec.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        spec = self.spec
        if Path(spec.cwd).is_dir():  # the runner's folder; on another node Ray's copy of it is the cwd
            os.chdir(spec.cwd)
        script = Path(spec.script)
        if not script.is_file() and script.is_relative_to(spec.cwd):
            script = Path.cwd() / script.relative_to(spec.cwd)
        try:
            self.script = EntryScript(replace(spec, script=str(script)))
        except BaseException as exc:  # noqa: BLE001 - whatever the script raises, the runner is told
            traceback.print_exc()
            return ("init_failed", describe(exc))
        return ("ready", os.getpid(), ray.get_runtime_context().get_node_id())

    def run(self, index: int, data: Any, context: Any) -> tuple[Any, ...]:
        """``("done", index, rows, text)`` or ``("failed", index, why)``."""
        assert self.script is not None
        outcome = self.script.run_batch(index, data, context)
        sys.stdout.flush()
        sys.stderr.flush()
        if isinstance(outcome, str):
            return ("failed", index, outcome)
        text, rows = outcome
        return ("done", index, rows, text)

    def stop(self) -> None:
        if self.script is not None:
            self.script.shutdown()


class _Actor(Worker):
    """An actor and the results it owes, in the order it was sent them (its ``start`` first)."""

    def __init__(self, handle: Any, ray: Any) -> None:
        super().__init__()
        self.handle = handle
        self.ray = ray
        self.owed: list[Any] = [handle.start.remote()]  # object refs, in order
        self.stopping: Any = None

    def send(self, batch: MiniBatch) -> None:
        try:
            self.owed.append(self.handle.run.remote(batch.index, batch.data, batch.context))
        except self.ray.exceptions.RayActorError as exc:
            raise WorkerGone(str(exc)) from None

    def kill(self) -> None:
        with contextlib.suppress(Exception):  # it is gone already
            self.ray.kill(self.handle, no_restart=True)
        self.owed = []

    def stop(self, clean: bool) -> None:
        if clean:
            self.stopping = self.handle.stop.remote()
        else:
            self.kill()

    def join(self, seconds: float) -> None:
        if self.stopping is not None:
            self.ray.wait([self.stopping], timeout=seconds)


class ActorPool(WorkerPool):
    """``size`` Ray actors of one CPU each, spread over the cluster of the job's Ray target."""

    what = "Ray actor(s)"

    def __init__(self, spec: WorkerSpec, size: int, target: str) -> None:
        self.spec = spec
        self.ray = _connect()
        check_fits(self.ray, size, target)
        self.actor = self.ray.remote(ParallelActor).options(
            num_cpus=CPUS_PER_ACTOR, scheduling_strategy="SPREAD", max_restarts=0, max_task_retries=0
        )
        self.parts = Path(spec.parts)
        self.ran_on: dict[int, str] = {}  # pid -> node id of every actor that said ready
        self.started = 0

    def start(self) -> Worker:
        self.started += 1
        return _Actor(self.actor.remote(self.spec), self.ray)

    def wait(self, workers: list[Worker], timeout: float) -> dict[Worker, Heard]:
        ray = self.ray
        actors = [w for w in workers if isinstance(w, _Actor) and w.owed]
        refs = [ref for actor in actors for ref in actor.owed]
        if not refs:
            return {}
        done, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if done and rest:
            done += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        finished = set(done)
        heard: dict[Worker, Heard] = {}
        for actor in actors:
            while actor.owed and actor.owed[0] in finished:  # an actor answers in order
                said = heard.setdefault(actor, Heard())
                try:
                    message = ray.get(actor.owed.pop(0))
                except ray.exceptions.RayActorError as exc:
                    said.gone = f"the Ray actor died ({first_line(exc)})"
                    break
                except ray.exceptions.RayError as exc:  # a result Ray could not return
                    said.gone = f"the Ray actor failed ({first_line(exc)})"
                    break
                said.messages.append(self._message(message))
        return heard

    def _message(self, message: tuple[Any, ...]) -> tuple[Any, ...]:
        """An actor's answer as a worker process's: rows written to their part file here."""
        if message[0] == "ready":
            self.ran_on[message[1]] = message[2]
            return ("ready",)
        if message[0] == "done":
            _, index, rows, text = message
            try:
                write_part(self.parts, index, text)
            except OSError as exc:
                return ("failed", index, describe(exc))
            return ("done", index, rows)
        return message

    def close(self) -> None:
        nodes = len(set(self.ran_on.values()))
        LOG.info("%d Ray actor(s) started (%d ready), on %d node(s)", self.started, len(self.ran_on), nodes)


def check_fits(ray: Any, size: int, target: str) -> None:
    """``size`` actors of one CPU each must fit in the cluster's CPUs at once: more would leave
    some pending forever (and the job waiting on them), so the job is refused before any starts."""
    cpus = ray.cluster_resources().get("CPU", 0.0)
    wanted = size * CPUS_PER_ACTOR
    if wanted > cpus:
        raise RayPoolError(
            f"the parallel job asks for more than the Ray target {target!r} has: CPU {wanted:g} for its "
            f"{size} actors (instance_count x max_concurrency_per_instance, one CPU each; the "
            f"cluster has {cpus:g})"
        )


def _connect() -> Any:
    """Ray, connected to the cluster of the job the runner runs as (``RAY_ADDRESS``); the runner's
    own SIGTERM and SIGINT handlers (its cancel) are kept."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # the actors' lines in the job's log as printed
    os.environ.setdefault("RAY_COLOR_PREFIX", "0")  # and without colour codes: it is a file
    try:
        import ray
    except ImportError:
        raise InvalidInputError(
            "a parallel job on a Ray target needs Ray: pip install 'trainyard[ray]'"
        ) from None
    if not ray.is_initialized():
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        ray.init()
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
    return ray
