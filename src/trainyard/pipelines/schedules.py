"""Schedules of published pipelines: when each is due, and the loop that fires them exactly once.

Three triggers: ``cron`` (a cron expression, read by croniter, in UTC), ``every`` (``90s``,
``15m``, ``1h``, ``1d``, or ``1h30m``: due times ``created + k * interval``) and ``data`` (a
data asset, ``data:NAME``, whose latest version changes, or a path whose content hash changes;
polled every ``poll_seconds``).

Exactly once: a due time is fired by whoever claims it in the store, with the compare-and-set
``next_fire: due -> the next one`` (``Store.claim_schedule_fire``), so any number of
``Scheduler`` loops on one store (server threads, ``trainyard scheduler`` processes, restarts)
fire it once; the claim writes the firing record, which then gets the run's id or the error.
A ``data`` schedule's claim also moves its watermark (the content it last fired for).

Missed times: due times the scheduler reaches more than ``GRACE_SECONDS`` late passed while no
scheduler ran. Every missed time is reported on the firing (``missed``), and the schedule's
policy decides: ``run-once`` queues one run for all of them, ``skip`` records a skip and waits
for the next due time. Times reached within the grace fire normally (several at once, when a
short interval fell behind, as one run that counts the others as missed). A data change a loop
sees more than its poll interval and the grace after it was made is one missed time, the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError
from trainyard.store.records import Schedule, ScheduleFiring

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

log = logging.getLogger(__name__)

GRACE_SECONDS = 60.0
POLL_SECONDS = 1.0  # the longest a loop sleeps: a schedule made elsewhere is seen this soon
DATA_POLL_SECONDS = 30.0
MIN_EVERY_SECONDS = 1.0
MAX_COUNTED = 100_000  # missed cron times counted at most (a 1-minute cron down for 69 days)
TAG_SCHEDULE = "trainyard.schedule"
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_EVERY = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

Fire = Callable[["Workspace", Schedule], str]


def parse_every(text: str) -> float:
    """Seconds of an interval written ``90s``, ``15m``, ``1h``, ``1d``, ``1w`` or ``1h30m``."""
    spec = text.strip().lower().replace(" ", "")
    parts = _EVERY.findall(spec)
    if not parts or "".join(n + u for n, u in parts) != spec:
        raise InvalidInputError(f"--every {text!r}: write an interval such as 90s, 15m, 1h, 1d or 1h30m")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < MIN_EVERY_SECONDS:
        raise InvalidInputError(f"--every {text!r}: the shortest interval is {MIN_EVERY_SECONDS:g}s")
    return seconds


def check_cron(expression: str) -> str:
    """``expression`` if croniter reads it, else one line naming what is wrong with it."""
    from croniter import croniter

    expression = " ".join(expression.split())
    try:
        croniter(expression, 0.0).get_next(float)
    except (ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(
            f"cron expression {expression!r} is not valid ({reason}); write five fields, "
            "minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"
        ) from None
    return expression


def next_after(schedule: Schedule, t: float) -> float:
    """The first due time of ``schedule`` strictly after ``t`` (``data``: the next poll)."""
    if schedule.trigger == "cron":
        from croniter import croniter

        return float(croniter(schedule.spec, t).get_next(float))
    if schedule.trigger == "every":
        interval = float(schedule.spec)
        steps = math.floor((t - schedule.next_fire) / interval) + 1
        return schedule.next_fire + steps * interval  # on its grid, before its next_fire too
    return t + (schedule.poll_seconds or DATA_POLL_SECONDS)


def first_fire(trigger: str, spec: str, now: float) -> float:
    """The first due time of a new schedule made at ``now``."""
    if trigger == "cron":
        from croniter import croniter

        return float(croniter(spec, now).get_next(float))
    if trigger == "every":
        return now + float(spec)
    return now


def due_times(schedule: Schedule, now: float) -> tuple[int, float]:
    """How many due times of ``schedule`` are at or before ``now`` (from its ``next_fire``); the latest."""
    if schedule.next_fire > now:
        return 0, schedule.next_fire
    if schedule.trigger == "every":
        interval = float(schedule.spec)
        count = math.floor((now - schedule.next_fire) / interval) + 1
        return count, schedule.next_fire + (count - 1) * interval
    from croniter import croniter

    times = croniter(schedule.spec, schedule.next_fire)
    count, latest = 1, schedule.next_fire
    while count < MAX_COUNTED:
        after = float(times.get_next(float))
        if after > now:
            break
        count, latest = count + 1, after
    return count, latest


# data-change triggers ----------------------------------------------------------------------------
DATA_PREFIXES = ("data:", "azureml:")


def data_target(ws: Workspace, given: str) -> str:
    """The ``spec`` of a ``data`` schedule: ``data:NAME`` for a data asset, else an absolute path.

    A path that exists is a path; else a data asset (``NAME``, ``data:NAME`` or
    ``azureml:NAME``) that exists. A server workspace's scheduler runs on the server, where the
    user's paths mean nothing: there, data assets only.
    """
    from trainyard.data.assets import parse_data_ref

    path = Path(given).expanduser()
    if not given.startswith(DATA_PREFIXES) and path.exists():
        if ws.is_server:
            raise InvalidInputError(
                f"--on-data-change {given}: the server runs this workspace's schedules and cannot read "
                "your paths; create a data asset (`trainyard data create`) and name it"
            )
        return str(path.resolve())
    try:
        name, _ = parse_data_ref(given)
        ws.store.get_data_version(name)
    except (InvalidInputError, NotFoundError):
        raise InvalidInputError(
            f"--on-data-change {given}: neither a file or folder nor a data asset "
            "(`trainyard data list` shows the data assets)"
        ) from None
    return f"data:{name}"


@dataclass(frozen=True)
class Seen:
    """A ``data`` schedule's target as a poll found it: its watermark and when it last changed."""

    watermark: str
    changed_at: float


@dataclass
class DataWatch:
    """What a ``data`` schedule watches, now: a data asset's latest version (changed when it was
    created), or a path's content hash (recomputed only when its files' size, mtime or ctime
    changed; changed at the newest ctime of its files and folders, which no copy can set back)."""

    ws: Workspace
    _hashed: dict[str, tuple[str, str]] = field(default_factory=dict)  # spec -> (stat hash, digest)

    def look(self, spec: str) -> Seen | None:
        """None while the target does not exist (nothing to compare, nothing fires)."""
        if spec.startswith("data:"):
            try:
                version = self.ws.store.get_data_version(spec.removeprefix("data:"))
            except NotFoundError:
                return None
            return Seen(str(version.version), version.created_at)
        from trainyard.data.content import local_files, of_local, stat_manifest

        path = Path(spec)
        if not path.exists():
            return None
        files = local_files(path)
        stat = hashlib.sha256(json.dumps(stat_manifest(files), sort_keys=True).encode()).hexdigest()
        known = self._hashed.get(spec)
        if known is None or known[0] != stat:
            known = self._hashed[spec] = (stat, of_local(files).digest)
        entries = [path, *path.rglob("*")] if path.is_dir() else [path]
        return Seen(known[1], max(p.lstat().st_ctime for p in entries))

    def watermark(self, spec: str) -> str | None:
        seen = self.look(spec)
        return None if seen is None else seen.watermark


# firing ---------------------------------------------------------------------------------------------
def fire_published(ws: Workspace, schedule: Schedule) -> str:
    """Queue a run of the schedule's published pipeline (its default version); the run's id."""
    from trainyard.pipelines.published import trigger_published

    run, _ = trigger_published(
        ws, schedule.pipeline, inputs=dict(schedule.inputs), tags={TAG_SCHEDULE: schedule.name}
    )
    return run.id


class Scheduler:
    """Fires the due schedules of ``ws``'s store: ``tick()`` once, or a loop (``run`` in the
    foreground, ``start``/``stop`` on a thread). Safe to run in any number of processes at once."""

    def __init__(
        self,
        ws: Workspace,
        fire: Fire = fire_published,
        *,
        grace: float = GRACE_SECONDS,
        poll: float = POLL_SECONDS,
        clock: Callable[[], float] = time.time,
        on_firing: Callable[[ScheduleFiring, Schedule], None] | None = None,
    ) -> None:
        self.ws, self.fire, self.grace, self.poll, self.clock = ws, fire, grace, poll, clock
        self.on_firing = on_firing
        self.watch = DataWatch(ws)
        self.schedules: list[Schedule] = []  # as the last tick read them
        self._polled: dict[str, float] = {}  # data schedules: when this loop last polled each
        self._wake = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # one pass -------------------------------------------------------------------------------------
    def tick(self) -> list[ScheduleFiring]:
        """Fire what is due now; the firings this pass claimed."""
        now = self.clock()
        self.schedules = self.ws.store.list_schedules()
        fired: list[ScheduleFiring] = []
        wake = now + self.poll
        for schedule in self.schedules:
            if not schedule.enabled:
                continue
            try:
                firing = (
                    self._data(schedule, now) if schedule.trigger == "data" else self._timed(schedule, now)
                )
            except TrainyardError as exc:  # a schedule whose target went bad must not stop the others
                log.warning("schedule %s: %s", schedule.name, exc)
                firing = None
            if firing is not None:
                fired.append(firing)
                if self.on_firing is not None:
                    self.on_firing(firing, schedule)
            if schedule.trigger != "data":
                wake = min(wake, schedule.next_fire if firing is None else next_after(schedule, now))
        self._wake = wake
        return fired

    def _timed(self, schedule: Schedule, now: float) -> ScheduleFiring | None:
        count, latest = due_times(schedule, now)
        if count == 0:
            return None
        following = next_after(schedule, now)
        late = now - latest > self.grace
        if late and schedule.missed == "skip":
            return self.ws.store.claim_schedule_fire(
                schedule.name, due=schedule.next_fire, next_fire=following, action="skip", missed=count
            )
        claimed = self.ws.store.claim_schedule_fire(
            schedule.name, due=schedule.next_fire, next_fire=following, action="run", missed=count - 1
        )
        return None if claimed is None else self._run(claimed, schedule)

    def _data(self, schedule: Schedule, now: float) -> ScheduleFiring | None:
        every = schedule.poll_seconds or DATA_POLL_SECONDS
        if now - self._polled.get(schedule.name, -math.inf) < every:
            return None
        self._polled[schedule.name] = now
        seen = self.watch.look(schedule.spec)
        if seen is None or seen.watermark == schedule.watermark:
            return None
        # a change seen later than a poll and the grace after it was made happened while no loop watched
        missed = 1 if now - seen.changed_at > every + self.grace else 0
        action = "skip" if missed and schedule.missed == "skip" else "run"
        claimed = self.ws.store.claim_schedule_fire(
            schedule.name,
            due=schedule.next_fire,
            next_fire=max(now, math.nextafter(schedule.next_fire, math.inf)),
            action=action,
            missed=missed,
            watermark=seen.watermark,
        )
        if claimed is None or action == "skip":
            return claimed
        return self._run(claimed, schedule)

    def _run(self, claimed: ScheduleFiring, schedule: Schedule) -> ScheduleFiring:
        try:
            run_id = self.fire(self.ws, schedule)
        except Exception as exc:  # recorded on the firing; the loop goes on with the others
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not isinstance(exc, TrainyardError):
                log.exception("schedule %s: firing failed", schedule.name)
            return self.ws.store.finish_schedule_firing(claimed.id, error=reason)
        return self.ws.store.finish_schedule_firing(claimed.id, run_id=run_id)

    # loops ----------------------------------------------------------------------------------------
    def wait_seconds(self) -> float:
        """How long to sleep before the next tick: until the earliest due time, at most ``poll``."""
        return min(max(self._wake - self.clock(), 0.0), self.poll)

    def run(self, stop: threading.Event | None = None) -> None:
        """Tick until ``stop`` is set; a pass that fails is logged and the next one runs."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # the store down for a moment must not end the loop
                log.exception("scheduler: a pass failed")
                self._wake = self.clock() + self.poll
            stop.wait(self.wait_seconds())

    def start(self) -> None:
        """Run the loop on a daemon thread (the team server's)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name="trainyard-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def create_schedule(
    ws: Workspace,
    name: str,
    *,
    pipeline: str,
    cron: str | None = None,
    every: str | None = None,
    on_data_change: str | None = None,
    inputs: dict[str, str] | None = None,
    missed: str = "run-once",
    poll: str | None = None,
) -> Schedule:
    """Check a schedule's trigger (one of ``cron``, ``every``, ``on_data_change``) and store it."""
    given = [(t, v) for t, v in (("cron", cron), ("every", every), ("data", on_data_change)) if v is not None]
    if len(given) != 1:
        raise InvalidInputError("give one of --cron, --every and --on-data-change")
    (trigger, value), now = given[0], time.time()
    if poll is not None and trigger != "data":
        raise InvalidInputError("--poll is for --on-data-change schedules")
    watermark, poll_seconds = None, None
    _check_inputs(ws, pipeline, inputs or {})  # an unknown pipeline: its error before any other
    if trigger == "cron":
        spec = check_cron(value)
    elif trigger == "every":
        spec = repr(parse_every(value))
    else:
        spec = data_target(ws, value)
        watermark = DataWatch(ws).watermark(spec)
        poll_seconds = parse_every(poll) if poll is not None else DATA_POLL_SECONDS
    return ws.store.create_schedule(
        name,
        pipeline=pipeline,
        trigger=trigger,
        spec=spec,
        next_fire=first_fire(trigger, spec, now),
        inputs=inputs,
        missed=missed,
        watermark=watermark,
        poll_seconds=poll_seconds,
    )


def _check_inputs(ws: Workspace, pipeline: str, inputs: dict[str, str]) -> None:
    """Every input a schedule sets is one of its pipeline's default version (a typo would fail
    every firing); its value is read at each firing, as the version then default takes it."""
    from trainyard.pipelines.published import pipeline_record

    published = ws.store.get_published_pipeline(pipeline)
    known = pipeline_record(
        published.pipeline, f"version {published.version} of pipeline {pipeline!r}"
    ).inputs
    for name in inputs:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise InvalidInputError(
                f"--set inputs.{name}: pipeline {pipeline!r} has no input {name!r} (inputs: {listed})"
            )


def set_enabled(ws: Workspace, name: str, enabled: bool) -> Schedule:
    """Enable (its next due time counted from now: the times it was off are not missed) or disable."""
    schedule = ws.store.get_schedule(name)
    if not enabled or schedule.enabled:
        return ws.store.set_schedule_enabled(name, enabled)
    now = time.time()
    if schedule.trigger == "every":
        following = next_after(schedule, now)
    else:
        following = max(first_fire(schedule.trigger, schedule.spec, now), schedule.next_fire)
    return ws.store.set_schedule_enabled(name, True, next_fire=following)


def describe(schedule: Schedule) -> str:
    """The trigger in words: ``cron 0 3 * * * (UTC)``, ``every 1h``, ``on change of data:churn``."""
    if schedule.trigger == "cron":
        return f"cron {schedule.spec} (UTC)"
    if schedule.trigger == "every":
        return f"every {_interval(float(schedule.spec))}"
    return (
        f"on change of {schedule.spec} (polled every {_interval(schedule.poll_seconds or DATA_POLL_SECONDS)})"
    )


def _interval(seconds: float) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{seconds / _UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"
