"""The pipeline driver: the parent run's process, which starts each step when the steps it needs
have finished.

Every fact it acts on lives in the store: each step is a child run tagged with its name, so a
driver that is killed and started again (the parent job's ``max_retries``) reads which steps
finished, which still run and which never started, and carries on without running a finished
step again. A step whose reuse key (``PipelineRecord.reuse_key``) equals a completed run's is not
run: it gets a completed child run pointing at the run it reuses.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainyard.artifacts import run_key
from trainyard.artifacts.paths import join
from trainyard.compute import get_compute
from trainyard.compute.job import JobRecord
from trainyard.compute.reaper import reap
from trainyard.compute.wakeup import Waiter, wake
from trainyard.compute.worker import LOG
from trainyard.data.lineage import inherit_reads
from trainyard.errors import InvalidInputError, InvalidTransitionError, TrainyardError
from trainyard.jobs.run_outputs import HASH_TAG
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import PreparedJob, job_record, start_run
from trainyard.liveness import worker_id
from trainyard.pipelines.automl_step import start_automl_step
from trainyard.pipelines.record import KEY_TAG, REUSED_TAG, STEP_TAG, PipelineRecord, outputs_holder
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.tracking import TrackedRun, current_run

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

POLL_SECONDS = 0.05
REAP_SECONDS = 2.0


@dataclass
class Progress:
    """Where each step stands, rebuilt from the children on every pass."""

    running: dict[str, RunInfo] = field(default_factory=dict)
    done: dict[str, RunInfo] = field(default_factory=dict)  # completed (or reused)
    failed: dict[str, RunInfo] = field(default_factory=dict)


class Driver:
    """Runs a pipeline run's steps; ``say`` is where its log lines go (the job's log)."""

    def __init__(self, run: TrackedRun, say: Callable[[str], None] | None = None) -> None:
        self.run = run
        self.say = say or (lambda line: print(line, flush=True))
        self.ws = run.workspace
        self.store = self.ws.store
        self.info = self.store.get_run(run.id)
        self.record = PipelineRecord.of_run(self.info)
        self.launched: set[str] = set()  # steps with a child run
        self.stopping = ""
        self.announced: set[str] = set()
        self.held: dict[str, tuple[str, dict[str, str]]] = {}  # finished child -> outputs_of

    def on_sigterm(self, *_: object) -> None:
        self.stopping = "the pipeline was canceled"
        wake(self.ws.root, [("child", self.run.id)])  # out of its wait at once

    def progress(self) -> Progress:
        children = sorted(self.store.search_runs(parent_id=self.run.id), key=lambda c: c.created_at)
        state = Progress()
        for child in children:  # the newest child of a step decides
            step = child.tags.get(STEP_TAG)
            if step not in self.record.steps:
                continue
            self.launched.add(step)
            for bucket in (state.running, state.done, state.failed):
                bucket.pop(step, None)
            if child.status == RunStatus.COMPLETED:
                state.done[step] = child
            elif child.status.is_terminal:
                state.failed[step] = child
            else:
                state.running[step] = child
        return state

    def resume(self) -> None:
        """Finish what a killed driver left half done: a reused step not yet marked completed, a
        child recorded but never handed to its compute target."""
        state = self.progress()
        for child in state.running.values():
            if REUSED_TAG in child.tags:
                self.store.set_status(child.id, RunStatus.COMPLETED, expected=child.status)
            elif child.status == RunStatus.QUEUED and child.worker is None:
                get_compute(child.compute or "local", self.ws).submit(self.ws, child)
        if self.launched:
            self.say(f"resumed: {len(state.done)} step(s) done, {len(state.running)} running")

    def outputs_of(self, child: RunInfo) -> tuple[str, dict[str, str]]:
        """The run holding a finished step's outputs, and their hashes: the run it reused, a
        sweep's best trial, or the step's own run."""
        if child.id not in self.held:
            self.held[child.id] = outputs_holder(self.store, child)
        return self.held[child.id]

    # -- starting a step -------------------------------------------------------------------------
    def _keyed(self, step: str, done: dict[str, RunInfo]) -> tuple[CommandJob, str, RunInfo | None]:
        """Step ``step``'s job once the ``done`` steps finished, its reuse key, and the run to reuse."""
        spec = self.record.steps[step]
        held = {name: self.outputs_of(child) for name, child in done.items() if name in spec.needs}
        job = self.record.step_job(step, {name: run_id for name, (run_id, _) in held.items()})
        key = self.record.reuse_key(step, job, {name: hashes for name, (_, hashes) in held.items()})
        reusable = self._reusable(key) if spec.deterministic and not spec.force_rerun else None
        return job, key, reusable

    def reuse_plan(self) -> dict[str, tuple[str, RunInfo]] | None:
        """Each step's reuse key and the run it would reuse, when every step can be reused (else
        None); writes nothing."""
        plan: dict[str, tuple[str, RunInfo]] = {}
        for step in (name for layer in self.record.layers for name in layer):
            _, key, reusable = self._keyed(step, {name: run for name, (_, run) in plan.items()})
            if reusable is None:
                return None
            plan[step] = (key, reusable)
        return plan

    def launch(self, step: str, done: dict[str, RunInfo]) -> None:
        record = self.record
        spec = record.steps[step]
        job, key, reused = self._keyed(step, done)
        tags = {STEP_TAG: step, KEY_TAG: key}
        if reused is not None:
            self._reuse(step, reused, tags)
            return
        prepared = PreparedJob(job, spec.environment, spec.snapshot_id, self.info.experiment_id)
        upstream = [self.outputs_of(done[need])[0] for need in spec.needs]
        if spec.automl is not None:
            try:
                child = start_automl_step(
                    self.ws,
                    step,
                    spec.automl,
                    job,
                    parent_id=self.run.id,
                    tags=tags,
                    reads_of=upstream,
                    say=self.say,
                )
            except InvalidInputError as exc:  # its tables, read only now, do not fit its settings
                self._fail_unstarted(step, tags, str(exc))
                return
        elif spec.sweep is not None:  # imported here: Optuna is a half-second import the rest never needs
            from trainyard.sweep.spec import build_spec
            from trainyard.sweep.submit import submit_sweep

            sweep = build_spec(trial=job, **spec.sweep)
            child = submit_sweep(
                self.ws,
                sweep,
                tags=tags,
                prepared=prepared,
                parent_id=self.run.id,
                name=step,
                reads_of=upstream,
            )
        else:
            record_ = job_record(prepared, JobRecord)
            child = start_run(
                self.ws,
                prepared,
                record=record_,
                parent_id=self.run.id,
                name=step,
                tags=tags,
                reads_of=upstream,
            )
        self.launched.add(step)
        self.say(f"step {step} ({spec.what}) started: run {child.id}")

    def _fail_unstarted(self, step: str, tags: dict[str, str], error: str) -> None:
        """A failed child run for a step that could not be started, so the pipeline fails as when
        a step fails (and says why), not as when its driver does."""
        child = self._settled_child(step, tags)
        self.store.set_status(child.id, RunStatus.FAILED, error=error, expected=RunStatus.RUNNING)
        self.launched.add(step)
        self.say(f"step {step} could not start: {error}")

    def _settled_child(self, step: str, tags: dict[str, str]) -> RunInfo:
        """A running child run for a step the driver settles itself, with no compute behind it."""
        return self.store.create_run(
            self.info.experiment_id,
            name=step,
            parent_id=self.run.id,
            status=RunStatus.RUNNING,
            compute=self.record.steps[step].compute,
            tags=tags,
        )

    def _reusable(self, key: str) -> RunInfo | None:
        """The newest completed run of a step with this key (its outputs were all written)."""
        found = self.store.search_runs(
            statuses=[RunStatus.COMPLETED], filter_string=f"tags.`{KEY_TAG}` = '{key}'", max_results=1
        )
        return found[0] if found else None

    def _reuse(self, step: str, reused: RunInfo, tags: dict[str, str]) -> None:
        origin, hashes = self.outputs_of(reused)
        produced = {HASH_TAG.format(name): value for name, value in hashes.items()}
        child = self._settled_child(step, {**tags, **produced, REUSED_TAG: origin})
        inherit_reads(self.ws, child.id, [origin, reused.id])
        self.store.set_status(child.id, RunStatus.COMPLETED, expected=RunStatus.RUNNING)
        self.launched.add(step)
        self.say(f"step {step} reused run {origin} (same code, command and inputs)")

    # -- the loop --------------------------------------------------------------------------------
    def loop(self) -> Progress:
        with Waiter(self.ws.root, "child", self.run.id) as waiter:
            return self._loop(waiter)

    def _loop(self, waiter: Waiter) -> Progress:
        """Start the steps that can start, then sleep until a step ends (a wake-up from its
        worker) or the poll interval passes, until none runs or can start."""
        settings = self.record.settings
        poll = waiter.poll_seconds(POLL_SECONDS)
        last_reap = 0.0
        while True:
            if time.monotonic() - last_reap > REAP_SECONDS:  # a step whose worker died must not hang us
                reap(self.ws)
                last_reap = time.monotonic()
            state = self.progress()
            self._announce(state)
            if state.failed and not settings.continue_on_step_failure and not self.stopping:
                first = next(iter(state.failed))
                self.stopping = f"step {first} failed"
            if self.stopping:
                if state.running:
                    self.say(f"stopping: {self.stopping}; canceling {len(state.running)} running step(s)")
                    self._cancel_all(list(state.running.values()), self.stopping)
                return self.progress()
            blocked = self._blocked(state)
            ready = [
                step
                for layer in self.record.layers
                for step in layer
                if step not in self.launched
                and step not in blocked
                and all(need in state.done for need in self.record.steps[step].needs)
            ]
            for step in ready:
                self.launch(step, state.done)
            if not ready and not state.running:
                return state
            if not ready:  # a step started now may be settled already (reused): look again first
                waiter.wait(poll)

    def _blocked(self, state: Progress) -> set[str]:
        """Steps that cannot run because a step they need failed."""
        blocked: set[str] = set()
        for step in state.failed:
            blocked |= self.record.downstream(step) - {step}
        return blocked

    def _announce(self, state: Progress) -> None:
        for bucket in (state.done, state.failed):
            for step, child in bucket.items():
                if step in self.announced or REUSED_TAG in child.tags:
                    continue
                self.announced.add(step)
                took = f" in {child.duration:.2f}s" if child.duration is not None else ""
                why = f": {child.error}" if child.error else ""
                self.say(f"step {step} {child.status.value}{took}{why}")

    def _cancel_all(self, active: list[RunInfo], reason: str, wait: float = 20.0) -> None:
        for child in active:
            with contextlib.suppress(InvalidTransitionError):  # it may have ended on its own meanwhile
                get_compute(child.compute or "local", self.ws).cancel(self.ws, child, reason)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all(self.store.get_run(c.id).status.is_terminal for c in active):
                return
            time.sleep(POLL_SECONDS)

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, state: Progress) -> None:
        """Bind the pipeline's outputs, log the steps' table, and fail if a step did not complete."""
        steps = [step for layer in self.record.layers for step in layer]
        rows = {"step": steps, "status": [], "run_id": [], "reused_from": []}
        for step in steps:
            child = state.done.get(step) or state.failed.get(step) or state.running.get(step)
            rows["status"].append(child.status.value if child else "not started")
            rows["run_id"].append(child.id if child else "")
            rows["reused_from"].append(child.tags.get(REUSED_TAG, "") if child else "")
        self.run.log_table("steps", rows)
        for output, (step, port) in self.record.bound_outputs.items():
            if step in state.done:
                self._bind(output, port, *self.outputs_of(state.done[step]))
        inherit_reads(self.ws, self.run.id, [child.id for child in state.done.values()])
        if self.stopping == "the pipeline was canceled":
            return
        if state.failed:
            not_run = [s for s in steps if s not in self.launched]
            failed = ", ".join(f"{s} ({c.error or c.status.value})" for s, c in state.failed.items())
            left = f"; not run: {', '.join(not_run)}" if not_run else ""
            self.run.fail(f"step(s) failed: {failed}{left}")
        else:
            reused = sum(REUSED_TAG in c.tags for c in state.done.values())
            self.say(f"pipeline completed: {len(state.done)} step(s), {reused} reused")

    def _bind(self, output: str, port: str, run_id: str, hashes: dict[str, str]) -> None:
        """The pipeline's output ``output`` is a copy of the step's, under the parent's outputs."""
        source = run_key(run_id, f"outputs/{port}")
        target = run_key(self.run.id, f"outputs/{output}")
        for name in self.ws.artifacts.list(source):
            self.ws.artifacts.copy(join(source, name), join(target, name))
        digest = hashes.get(port)
        tags = {f"pipeline.output.{output}": f"{run_id}/outputs/{port}"}
        if digest:
            tags[HASH_TAG.format(output)] = digest
        self.run.set_tags(tags)


def finish_if_all_reused(ws: Workspace, info: RunInfo) -> bool:
    """Finish a queued pipeline run here, in the submitting process, when every one of its steps
    can be reused: no driver process to start, no step to wait for. False (nothing written) when
    a step has to run, or another process took the run first."""
    lines: list[str] = []
    driver = Driver(TrackedRun(ws, info.id, info), say=lines.append)
    plan = driver.reuse_plan()
    if plan is None or not ws.store.set_status(
        info.id, RunStatus.RUNNING, expected=RunStatus.QUEUED, worker=worker_id()
    ):
        return False
    driver.say(f"pipeline: every one of its {len(plan)} step(s) is reused; finished where it was submitted")
    for step, (key, reused) in plan.items():
        driver._reuse(step, reused, {STEP_TAG: step, KEY_TAG: key})
    driver.finish(driver.progress())
    ws.artifacts.put_bytes(run_key(info.id, LOG), "".join(f"{line}\n" for line in lines).encode())
    driver.run.complete()
    return True


def main() -> None:
    run = current_run(TrackedRun)
    driver = Driver(run)
    signal.signal(signal.SIGTERM, driver.on_sigterm)
    record = driver.record
    driver.say(f"pipeline: {len(record.steps)} step(s) in {len(record.layers)} layer(s)")
    try:
        driver.resume()
        state = driver.loop()
    except TrainyardError as exc:
        run.fail(f"pipeline driver: {exc}")
        run.flush()
        return
    driver.finish(state)
    run.flush()


if __name__ == "__main__":
    main()
