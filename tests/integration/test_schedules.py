"""The scheduler against a real store (SQLite and PostgreSQL): every due time fires once however
many schedulers run, missed times follow the schedule's policy, data changes fire, failures are
recorded. The firing function here records a run in the store; tests/e2e/test_schedule_cli.py
runs published pipelines for real."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainyard.errors import InvalidInputError
from trainyard.pipelines.schedules import (
    Scheduler,
    check_cron,
    data_target,
    due_times,
    first_fire,
    next_after,
    parse_every,
)
from trainyard.store.records import Schedule
from trainyard.workspace import Workspace

RECORD = {"job": {"type": "pipeline"}}
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Iterator[Workspace]:
    made = Workspace.create(tmp_path / "ws", store=store_uri)
    made.store.publish_pipeline("retrain", RECORD)
    yield made
    made.close()


def _recording_fire(ws: Workspace) -> tuple[list[str], object]:
    """A firing function that queues a plain run per firing (what start_pipeline would make)."""
    fired: list[str] = []
    lock = threading.Lock()
    exp = ws.store.create_experiment("scheduled").id

    def fire(where: Workspace, schedule: Schedule) -> str:
        run = where.store.create_run(exp, name=schedule.name, tags={"inputs": repr(schedule.inputs)})
        with lock:
            fired.append(run.id)
        return run.id

    return fired, fire


def _every(ws: Workspace, name: str, seconds: float, first: float, **extra: object) -> Schedule:
    return ws.store.create_schedule(
        name,
        pipeline="retrain",
        trigger="every",
        spec=str(seconds),
        next_fire=first,
        **extra,  # type: ignore[arg-type]
    )


def test_two_schedulers_on_one_store_fire_each_due_time_once(ws: Workspace) -> None:
    other = Workspace(ws.root)  # a second process's workspace: its own connection to the store
    try:
        fired, fire = _recording_fire(ws)
        _every(ws, "hourly", 3600, T0)
        clock = Clock(T0)
        loops = [Scheduler(w, fire, clock=clock) for w in (ws, other, ws, other)]
        for hour in range(6):
            clock.now = T0 + hour * 3600 + 0.25
            barrier = threading.Barrier(len(loops))

            def tick(loop: Scheduler, b: threading.Barrier = barrier) -> None:
                b.wait()
                loop.tick()

            threads = [threading.Thread(target=tick, args=(loop,)) for loop in loops]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        firings = ws.store.list_schedule_firings("hourly")
        assert sorted(f.due for f in firings) == [T0 + h * 3600 for h in range(6)]
        assert sorted(f.run_id for f in firings) == sorted(fired) and len(fired) == 6  # type: ignore[type-var]
        assert all(f.missed == 0 and f.action == "run" for f in firings)
        # a scheduler started afterwards (a restart) finds nothing left to fire at the same time
        assert Scheduler(other, fire, clock=clock).tick() == []
        assert ws.store.get_schedule("hourly").next_fire == T0 + 6 * 3600
    finally:
        other.close()


def test_two_running_loops_fire_a_due_schedule_once(ws: Workspace) -> None:
    other = Workspace(ws.root)
    try:
        fired, fire = _recording_fire(ws)
        _every(ws, "often", 1, time.time() + 0.5)
        loops = [Scheduler(w, fire, poll=0.2) for w in (ws, other)]
        stop = threading.Event()
        threads = [threading.Thread(target=loop.run, args=(stop,)) for loop in loops]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while len(ws.store.list_schedule_firings("often")) < 3 and time.time() < deadline:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        firings = ws.store.list_schedule_firings("often", limit=1000)
        assert len(firings) >= 3
        assert len({f.due for f in firings}) == len(firings)  # no due time twice
        assert sorted(f.run_id for f in firings if f.run_id) == sorted(fired)  # type: ignore[type-var]
        assert all(f.run_id for f in firings) and len(fired) == len(firings)
    finally:
        other.close()


@pytest.mark.parametrize(
    ("policy", "action", "runs", "missed"), [("run-once", "run", 1, 5), ("skip", "skip", 0, 6)]
)
def test_times_missed_while_nothing_ran_follow_the_policy(
    ws: Workspace, policy: str, action: str, runs: int, missed: int
) -> None:
    fired, fire = _recording_fire(ws)
    _every(ws, "hourly", 3600, T0, missed=policy)
    clock = Clock(T0 + 5 * 3600 + 600)  # six due times passed, the latest ten minutes ago
    (firing,) = Scheduler(ws, fire, clock=clock).tick()
    assert (firing.action, firing.missed, firing.due, len(fired)) == (action, missed, T0, runs)
    assert ws.store.get_schedule("hourly").next_fire == T0 + 6 * 3600
    assert Scheduler(ws, fire, clock=clock).tick() == []


def test_a_time_reached_within_the_grace_fires_even_under_skip(ws: Workspace) -> None:
    fired, fire = _recording_fire(ws)
    _every(ws, "hourly", 3600, T0, missed="skip")
    (firing,) = Scheduler(ws, fire, clock=Clock(T0 + 5)).tick()
    assert (firing.action, firing.missed, firing.run_id) == ("run", 0, fired[0])


def test_cron_schedules_fire_at_their_times(ws: Workspace) -> None:
    fired, fire = _recording_fire(ws)
    first = first_fire("cron", "0 3 * * *", T0)
    assert first == T0 + 19 * 3600  # T0 is 08:00 UTC: the next 03:00 is tomorrow's
    ws.store.create_schedule("nightly", pipeline="retrain", trigger="cron", spec="0 3 * * *", next_fire=first)
    clock = Clock(first - 1)
    loop = Scheduler(ws, fire, clock=clock)
    assert loop.tick() == []
    clock.now = first + 0.5
    (firing,) = loop.tick()
    assert (firing.due, firing.run_id) == (first, fired[0])
    assert ws.store.get_schedule("nightly").next_fire == first + 86400
    clock.now = first + 3 * 86400 + 7200  # three nights missed
    (late,) = loop.tick()
    assert (late.missed, late.action) == (2, "run")


def test_a_failed_firing_is_recorded_and_the_schedule_moves_on(ws: Workspace) -> None:
    def fire(_ws: Workspace, _s: Schedule) -> str:
        raise InvalidInputError("input 'alpha' is not an input of the pipeline")

    _every(ws, "hourly", 3600, T0)
    (firing,) = Scheduler(ws, fire, clock=Clock(T0 + 1)).tick()
    assert (firing.run_id, firing.error) == (None, "input 'alpha' is not an input of the pipeline")
    assert ws.store.get_schedule("hourly").next_fire == T0 + 3600


def test_disabled_schedules_do_not_fire(ws: Workspace) -> None:
    fired, fire = _recording_fire(ws)
    _every(ws, "hourly", 3600, T0)
    ws.store.set_schedule_enabled("hourly", False)
    assert Scheduler(ws, fire, clock=Clock(T0 + 1)).tick() == [] and fired == []


def _version(ws: Workspace, name: str, digest: str) -> int:
    made = ws.store.create_data_version(
        name,
        type="uri_file",
        content_hash=digest * 64,
        size_bytes=1,
        file_count=1,
        prefix=f"data/{name}/{digest}",
    )
    return made.version


def test_a_new_data_asset_version_fires_once(ws: Workspace) -> None:
    fired, fire = _recording_fire(ws)
    _version(ws, "churn", "1")
    spec = data_target(ws, "churn")
    assert spec == "data:churn"
    now = time.time()
    ws.store.create_schedule(
        "on-churn",
        pipeline="retrain",
        trigger="data",
        spec=spec,
        next_fire=now,
        watermark="1",
        poll_seconds=5,
    )
    clock = Clock(now + 1)
    loops = [Scheduler(ws, fire, clock=clock), Scheduler(ws, fire, clock=clock)]
    assert [loop.tick() for loop in loops] == [[], []]
    _version(ws, "churn", "2")
    clock.now += 10
    assert [len(loop.tick()) for loop in loops] == [1, 0]
    clock.now += 10
    assert [loop.tick() for loop in loops] == [[], []]
    (firing,) = ws.store.list_schedule_firings("on-churn")
    assert (firing.run_id, firing.missed) == (fired[0], 0)
    assert ws.store.get_schedule("on-churn").watermark == "2"


def test_a_changed_path_fires_and_a_change_made_while_none_ran_is_missed(
    ws: Workspace, tmp_path: Path
) -> None:
    fired, fire = _recording_fire(ws)
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    spec = data_target(ws, str(folder))
    now = time.time()
    loop = Scheduler(ws, fire, clock=Clock(now))
    ws.store.create_schedule(
        "on-files",
        pipeline="retrain",
        trigger="data",
        spec=spec,
        next_fire=now,
        watermark=loop.watch.watermark(spec),
        poll_seconds=1,
        missed="skip",
    )
    assert loop.tick() == []
    (folder / "a.csv").write_text("x\n1\n2\n")
    loop.clock = Clock(time.time() + 2)
    (firing,) = loop.tick()
    assert (firing.action, firing.run_id, firing.missed) == ("run", fired[0], 0)
    (folder / "b.csv").write_text("x\n3\n")  # seen ten minutes later: made while no scheduler ran
    (skipped,) = Scheduler(ws, fire, clock=Clock(time.time() + 600)).tick()
    assert (skipped.action, skipped.missed, skipped.run_id, len(fired)) == ("skip", 1, None, 1)
    (folder / "a.csv").unlink()  # a deletion is a change too
    loop.clock = Clock(time.time() + 5)
    (gone,) = loop.tick()
    assert (gone.action, gone.missed, len(fired)) == ("run", 0, 2)


def test_bad_triggers_are_one_line_errors(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cron expression '0 3 \* \*' is not valid .*'0 3 \* \* \*'"):
        check_cron("0 3 * *")
    with pytest.raises(InvalidInputError, match="cron expression 'every day'"):
        check_cron("every day")
    with pytest.raises(InvalidInputError, match="90s, 15m"):
        parse_every("soon")
    with pytest.raises(InvalidInputError, match="shortest"):
        parse_every("0s")
    assert (parse_every("1h30m"), parse_every("90s"), parse_every("1d")) == (5400.0, 90.0, 86400.0)
    with pytest.raises(InvalidInputError, match="neither a file or folder nor a data asset"):
        data_target(ws, str(tmp_path / "nope"))


def test_due_times_and_next_after() -> None:
    every = Schedule("s", "p", "every", "600", T0, T0)
    assert due_times(every, T0 - 1) == (0, T0)
    assert due_times(every, T0 + 1250) == (3, T0 + 1200)
    assert next_after(every, T0 + 1250) == T0 + 1800
    assert next_after(every, T0 - 1) == T0  # re-enabled before its due time: that time
    cron = Schedule("s", "p", "cron", "*/10 * * * *", T0, T0)
    assert due_times(cron, T0 + 1250) == (3, T0 + 1200)
    assert next_after(cron, T0 + 1250) == T0 + 1800
