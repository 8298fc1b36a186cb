"""The tracking part of ``SqlStore``: experiments, runs, and their metrics, params and tags."""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from trainyard.deletion import RunView
from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.limits import MAX_SERIES_POINTS, MAX_TAG_VALUE_LENGTH, MIN_SERIES_POINTS
from trainyard.status import RunStatus, check_transition
from trainyard.store.records import USER_TAG, Experiment, Metric, MetricSeries, NewRun, RunInfo, RunPage
from trainyard.store.search import check_max_results, decode_page_token, encode_page_token
from trainyard.store.sql import blocks, rows
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.idempotency import SqlIdempotency
from trainyard.store.sql.models import EXPERIMENTS as EXP
from trainyard.store.sql.models import LATEST, METRICS, PARAMS, RUNS, TAGS
from trainyard.store.sql.search import RunSearch, in_view
from trainyard.store.validation import (
    apply_tag_changes,
    check_batch_id,
    check_run_ids,
    tag_changes,
    validate_key,
    validate_value,
)


def new_id() -> str:
    return uuid.uuid4().hex


def _metric_value(value: float, is_nan: bool, negative_zero: bool) -> float:
    """A stored value as it was logged: SQLite keeps neither NaN nor the sign of -0.0."""
    return math.nan if is_nan else -0.0 if negative_zero else value


def _extremes(
    dialect: str,
    where: list[Any],
    columns: tuple[Any, ...],
    order: tuple[Any, ...],
    span: tuple[int, int],
    buckets: int,
) -> Any:
    """The query for the first and last value, and each step range's smallest and largest finite
    one (``get_metric_series``), over ranges of a whole number of steps.

    SQLite takes a bare column's value from the row that holds a query's one ``min()`` or
    ``max()`` (documented), so each extreme is one pass with no sort: 3x faster there than
    ranking. Elsewhere each range's values are ranked both ways by window functions.
    """
    low, high = span
    width = -(-(high - low + 1) // buckets)  # ceiling: at most ``buckets`` ranges
    finite = and_(METRICS.c.is_nan == false(), METRICS.c.value < math.inf, METRICS.c.value > -math.inf)
    bucket = (METRICS.c.step - low) // width
    if dialect == "sqlite":
        picks = [
            select(*columns, pick(METRICS.c.value).label("extreme"))
            .where(*where, finite)
            .group_by(bucket)
            .subquery()
            for pick in (func.min, func.max)
        ]
        parts = [select(*(p.c[c.name] for c in columns)) for p in picks]
    else:
        ranked = (
            select(
                *columns,
                func.row_number().over(partition_by=bucket, order_by=(METRICS.c.value, *order)).label("up"),
                func.row_number()
                .over(partition_by=bucket, order_by=(METRICS.c.value.desc(), *order))
                .label("down"),
            )
            .where(*where, finite)
            .subquery()
        )
        parts = [
            select(*(ranked.c[c.name] for c in columns)).where(or_(ranked.c.up == 1, ranked.c.down == 1))
        ]
    first = select(*columns).where(*where).order_by(*order).limit(1)
    last = select(*columns).where(*where).order_by(*(c.desc() for c in order)).limit(1)
    return union_all(*parts, first.subquery().select(), last.subquery().select())


def _made(run_id: str, attempt: int | None, last: int) -> int:
    """``attempt``, or the run's ``last`` one; ``InvalidInputError`` for one the run has not made."""
    if attempt is None:
        return last
    if not 1 <= attempt <= last:
        raise InvalidInputError(
            f"run {run_id} has made attempts 1 to {last}, so there is no attempt {attempt}"
        )
    return attempt


def _check_points(points: int) -> None:
    if not MIN_SERIES_POINTS <= points <= MAX_SERIES_POINTS:
        raise InvalidInputError(
            f"points={points}: a series is cut to {MIN_SERIES_POINTS} to {MAX_SERIES_POINTS} points"
        )


_ORDER = (METRICS.c.step, METRICS.c.timestamp, METRICS.c.id)


# Runs cut in one go: a statement holds a select per run, or two (an end block each), and
# SQLite allows 500 in one compound statement (SQLITE_MAX_COMPOUND_SELECT).
_SERIES_AT_ONCE = 100


def _each(selects: list[Any]) -> Any:
    """One statement of a select per run: each an index seek, where an ``OR`` of the runs would
    collect every matching row id first (SQLite's multi-index OR: 10x slower for 50 runs)."""
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _series(
    conn: Connection,
    key: str,
    points: int,
    series: list[tuple[str, int]],
    steps: tuple[int | None, int | None],
) -> list[MetricSeries]:
    """``get_metric_series`` of each (run id, attempt) of ``series``, in that order, in a few
    queries whatever their number: each run's first and last step, the block summaries and end
    rows of the long series, the count and the rows of the short ones; only a series too long to
    return whole and too short for its blocks is cut alone (from its rows, in SQL)."""
    m = METRICS.c
    bounds = []
    if steps[0] is not None:
        bounds.append(m.step >= steps[0])
    if steps[1] is not None:
        bounds.append(m.step <= steps[1])
    ranges = points // 2 - 1
    # each end by ORDER BY ... LIMIT 1 rather than min()/max(): PostgreSQL's planner, on
    # statistics that predate a bulk write, aggregates over the whole series instead of reading
    # its ends. One correlated pair per run, all in one statement.
    asked = union_all(
        *(
            select(literal(r, RUNS.c.id.type).label("run_id"), literal(a, Integer).label("attempt"))
            for r, a in series
        )
    ).subquery("asked")  # not VALUES: SQLite cannot name a VALUES table's columns
    ends = [
        select(m.step)
        .where(m.run_id == asked.c.run_id, m.attempt == asked.c.attempt, m.key == key, *bounds)
        .order_by(end)
        .limit(1)
        .scalar_subquery()
        for end in (m.step, m.step.desc())
    ]
    spans = {r: (lo, hi) for r, lo, hi in conn.execute(select(asked.c.run_id, *ends))}
    found: dict[str, tuple[int, list[tuple[Any, ...]]]] = {}
    long: list[blocks.Series] = []
    short: list[tuple[str, int]] = []
    for run_id, attempt in series:
        low, high = spans[run_id]
        if low is None:
            found[run_id] = (0, [])
        elif step_width := blocks.width(low, high, ranges):
            long.append((run_id, attempt, low, high, step_width))
        else:
            short.append((run_id, attempt))
    if long:
        found.update(blocks.cut(conn, key, bounds, long))
    whole = [(r, a) for r, a, *_ in long if found[r][0] <= points]  # long in steps, few values
    if short:
        counted = _each(
            [
                select(literal(r, m.run_id.type), func.count()).where(
                    m.run_id == r, m.attempt == a, m.key == key, *bounds
                )
                for r, a in short
            ]
        )
        totals = dict(conn.execute(counted).all())
        for run_id, attempt in short:
            if totals[run_id] <= points:
                whole.append((run_id, attempt))
                continue
            low, high = spans[run_id]
            where = [m.run_id == run_id, m.attempt == attempt, m.key == key, *bounds]
            query = _extremes(conn.dialect.name, where, blocks.VALUE_COLUMNS, _ORDER, (low, high), ranges)
            unique = {row[5]: row for row in conn.execute(query)}.values()
            found[run_id] = (totals[run_id], sorted(unique, key=lambda r: (r[0], r[4], r[5])))
    if whole:
        query = _each(
            [
                select(m.run_id, *blocks.VALUE_COLUMNS).where(
                    m.run_id == r, m.attempt == a, m.key == key, *bounds
                )
                for r, a in whole
            ]
        )
        rows: dict[str, list[tuple[Any, ...]]] = {r: [] for r, _ in whole}
        for run_id, *row in conn.execute(query):
            rows[run_id].append(tuple(row))
        for run_id, kept in rows.items():
            kept.sort(key=lambda r: (r[0], r[4], r[5]))  # step, timestamp, id
            found[run_id] = (len(kept), kept)
    return [_as_series(key, points, *found[run_id]) for run_id, _ in series]


def _as_series(key: str, points: int, total: int, found: list[tuple[Any, ...]]) -> MetricSeries:
    return MetricSeries(
        key,
        total,
        total <= points,
        [row[0] for row in found],
        [_metric_value(row[1], row[2], row[3]) for row in found],
        [row[4] for row in found],
    )


def _batch_key(run_id: str, batch_id: str) -> str:
    """The idempotency key a batch id is kept under: a batch id names a batch of one run only."""
    check_batch_id(batch_id)
    return hashlib.sha256(f"metric batch\x00{run_id}\x00{batch_id}".encode()).hexdigest()


class SqlTracking(SqlIdempotency):
    """Experiments, runs and what they log, over ``engine``; creates are idempotent with a key."""

    engine: Engine

    # experiments ---------------------------------------------------------------------------
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        validate_key("experiment", name)
        row = {
            "id": new_id(),
            "name": name,
            "created_at": time.time(),
            "tags": dict(tags or {}),
            "deleted": False,
        }

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(insert(EXP).values(**row))
            return {"id": row["id"]}

        try:
            made = self._create("experiment", write)
        except IntegrityError:
            raise AlreadyExistsError(f"an experiment named {name!r} already exists") from None
        return self.get_experiment(made["id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        with read_tx(self.engine) as conn:
            row = conn.execute(select(EXP).where(EXP.c.id == experiment_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no experiment with id {experiment_id!r}")
        return Experiment(**row)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with read_tx(self.engine) as conn:
            row = conn.execute(select(EXP).where(EXP.c.name == name)).mappings().first()
        return Experiment(**row) if row else None

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        query = select(EXP).order_by(EXP.c.created_at)
        if not include_deleted:
            query = query.where(EXP.c.deleted.is_(False))
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [Experiment(**r) for r in rows]

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        deleted: bool | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> Experiment:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = validate_key("experiment", name)
        if deleted is not None:
            values["deleted"] = bool(deleted)
        changes = tag_changes(tags)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                current = conn.execute(select(EXP.c.tags).where(EXP.c.id == experiment_id)).first()
                if current is None:
                    raise NotFoundError(f"no experiment with id {experiment_id!r}")
                if changes:
                    values["tags"] = apply_tag_changes(current.tags, changes)
                if values:
                    conn.execute(update(EXP).where(EXP.c.id == experiment_id).values(**values))

        try:
            with_retries(tx)
        except IntegrityError:
            raise AlreadyExistsError(f"an experiment named {name!r} already exists") from None
        return self.get_experiment(experiment_id)

    # runs ------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        status: RunStatus = RunStatus.QUEUED,
        compute: str | None = None,
        job: dict[str, Any] | None = None,
        snapshot_id: str | None = None,
        environment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RunInfo:
        new = NewRun(experiment_id, name, parent_id, compute, job, snapshot_id, environment, dict(tags or {}))
        return self._insert_runs([new], status)[0]

    def create_runs(self, runs: Sequence[NewRun]) -> list[RunInfo]:
        return self._insert_runs(runs, RunStatus.QUEUED) if runs else []

    def _insert_runs(self, runs: Sequence[NewRun], status: RunStatus) -> list[RunInfo]:
        """``runs`` in ``status``, each with its tags (a child its parent's user) and params, in
        one transaction (once per idempotency key); every row checked before it is written."""
        now = time.time()
        planned = []
        for new in runs:
            run_id = new_id()
            row: dict[str, Any] = {
                "id": run_id,
                "experiment_id": new.experiment_id,
                "parent_id": new.parent_id,
                "name": new.name or run_id[:12],
                "status": status.value,
                "created_at": now,
                "start_time": now if status == RunStatus.RUNNING else None,
                "heartbeat_at": now,
                "compute": new.compute,
                "job": new.job,
                "snapshot_id": new.snapshot_id,
                "environment": new.environment,
                "attempt": 1,
                "cancel_requested": False,
            }
            rows.tag_rows(run_id, new.tags)  # checked before anything is written
            planned.append((row, dict(new.tags), rows.Batch.of(run_id, (), new.params, {}).params))

        def write(conn: Connection) -> dict[str, Any]:
            users: dict[str, str | None] = {}
            for row, given, _ in planned:
                parent_id = row["parent_id"]
                if parent_id is not None and USER_TAG not in given:
                    if parent_id not in users:
                        found = select(TAGS.c.value).where(TAGS.c.run_id == parent_id, TAGS.c.key == USER_TAG)
                        users[parent_id] = conn.execute(found).scalar_one_or_none()
                    if users[parent_id] is not None:
                        given[USER_TAG] = str(users[parent_id])
            conn.execute(insert(RUNS), [row for row, _, _ in planned])
            tag_rows = [t for row, given, _ in planned for t in rows.tag_rows(row["id"], given)]
            if tag_rows:
                conn.execute(insert(TAGS), tag_rows)
            param_rows = [p for _, _, params in planned for p in params]
            if param_rows:
                conn.execute(insert(PARAMS), param_rows)
            return {"ids": [row["id"] for row, _, _ in planned]}

        try:
            made = self._create("run", write)
        except IntegrityError:
            raise NotFoundError(
                "cannot create the run: experiment "
                f"{planned[0][0]['experiment_id']!r} or parent {planned[0][0]['parent_id']!r} does not exist"
            ) from None
        ids = made["ids"] if "ids" in made else [made["id"]]  # a key an older version recorded
        found = {info.id: info for info in self._load_runs(select(RUNS).where(RUNS.c.id.in_(ids)))}
        return [found[run_id] for run_id in ids]

    def get_run(self, run_id: str) -> RunInfo:
        runs = self._load_runs(select(RUNS).where(RUNS.c.id == run_id))
        if not runs:
            raise NotFoundError(f"no run with id {run_id!r}; `trainyard run list` shows the runs")
        return runs[0]

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        *,
        statuses: Iterable[RunStatus] | None = None,
        parent_id: str | None = None,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        view: RunView = RunView.ALL,
    ) -> RunPage:
        dialect = self.engine.dialect.name
        search = RunSearch(dialect, experiment_ids, statuses, parent_id, filter_string, order_by, view)
        offset = decode_page_token(page_token)
        limit = check_max_results(max_results)
        if limit is None:
            query = search.query()
            return RunPage(self._load_runs(query.offset(offset) if offset else query))
        bounding = search.bound(offset + limit)  # the page's last value, for a short sort
        with read_tx(self.engine) as conn:
            bound = None if bounding is None else conn.execute(bounding).scalar()
            query = search.query(bound)
            found = self._read_runs(conn, query.offset(offset).limit(limit + 1), by_id_list=True)
        more = len(found) > limit
        return RunPage(found[:limit], encode_page_token(offset + limit) if more else None)

    def find_run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(RUNS.c.id)
            .where(RUNS.c.id.like(f"{escaped}%", escape="\\"))
            .order_by(RUNS.c.id)
            .limit(limit)
        )
        with read_tx(self.engine) as conn:
            return list(conn.execute(query).scalars())

    def count_runs(self, experiment_id: str, *, view: RunView = RunView.ALL) -> int:
        with read_tx(self.engine) as conn:
            query = in_view(select(func.count()).select_from(RUNS), view)
            query = query.where(RUNS.c.experiment_id == experiment_id)
            return int(conn.execute(query).scalar() or 0)

    def _load_runs(self, query: Any, *, by_id_list: bool = False) -> list[RunInfo]:
        """Runs plus their params, tags and latest metrics, in four queries whatever the count.

        ``by_id_list`` (for a page) reads the extras by the ids found rather than running the
        search again as a subquery three times.
        """
        with read_tx(self.engine) as conn:
            return self._read_runs(conn, query, by_id_list=by_id_list)

    def _read_runs(self, conn: Connection, query: Any, *, by_id_list: bool) -> list[RunInfo]:
        rows = conn.execute(query).mappings().all()
        if not rows:
            return []
        ids: Any = (
            [r["id"] for r in rows] if by_id_list else query.with_only_columns(RUNS.c.id).scalar_subquery()
        )
        extra: dict[str, dict[str, dict[str, Any]]] = {r["id"]: {"p": {}, "t": {}, "m": {}} for r in rows}
        for rid, k, v in conn.execute(
            select(PARAMS.c.run_id, PARAMS.c.key, PARAMS.c.value).where(PARAMS.c.run_id.in_(ids))
        ):
            extra[rid]["p"][k] = v
        for rid, k, v in conn.execute(
            select(TAGS.c.run_id, TAGS.c.key, TAGS.c.value).where(TAGS.c.run_id.in_(ids))
        ):
            extra[rid]["t"][k] = v
        latest = select(
            LATEST.c.run_id, LATEST.c.key, LATEST.c.value, LATEST.c.is_nan, LATEST.c.negative_zero
        ).where(LATEST.c.run_id.in_(ids))
        for rid, k, v, nan, negative_zero in conn.execute(latest):
            extra[rid]["m"][k] = _metric_value(v, nan, negative_zero)
        return [self._run_info(r, extra[r["id"]]) for r in rows]

    @staticmethod
    def _run_info(row: Any, extra: dict[str, dict[str, Any]]) -> RunInfo:
        data = dict(row)
        data["status"] = RunStatus(data["status"])
        data["cancel_requested"] = bool(data["cancel_requested"])
        return RunInfo(**data, params=extra["p"], tags=extra["t"], metrics=extra["m"])

    def _current_status(self, conn: Connection, run_id: str) -> RunStatus:
        status = conn.execute(select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar()
        if status is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        return RunStatus(status)

    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        worker: str | None = None,
        expected: RunStatus | None = None,
    ) -> bool:
        def tx() -> bool:
            with write_tx(self.engine) as conn:
                current = self._current_status(conn, run_id)
                if expected is not None and (current != expected or current.is_terminal):
                    return False
                if current == status and not status.is_terminal:
                    return True
                check_transition(current, status)
                now = time.time()
                values: dict[str, Any] = {"status": status.value, "heartbeat_at": now}
                if status == RunStatus.RUNNING:
                    values["start_time"] = func.coalesce(RUNS.c.start_time, now)
                if status.is_terminal:
                    values["end_time"] = now
                if status in (RunStatus.COMPLETED, RunStatus.FAILED):  # it ended by itself: not canceled
                    values.update(cancel_requested=False, cancel_reason=None)
                if error is not None:
                    values["error"] = error
                if exit_code is not None:
                    values["exit_code"] = exit_code
                if worker is not None:
                    values["worker"] = worker
                result = conn.execute(
                    update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == current.value).values(**values)
                )
                return result.rowcount == 1

        return with_retries(tx)

    def requeue(self, run_id: str, expected: RunStatus, error: str) -> bool:
        def tx() -> bool:
            with write_tx(self.engine) as conn:
                result = conn.execute(
                    update(RUNS)
                    .where(RUNS.c.id == run_id, RUNS.c.status == expected.value)
                    .values(
                        status=RunStatus.QUEUED.value,
                        attempt=RUNS.c.attempt + 1,
                        error=error,
                        worker=None,
                        heartbeat_at=time.time(),
                    )
                )
                if result.rowcount != 1:
                    return False
                # run lists show the new attempt's values; the last attempt's stay in its history
                conn.execute(delete(LATEST).where(LATEST.c.run_id == run_id))
                return True

        check_transition(expected, RunStatus.QUEUED)
        return with_retries(tx)

    def heartbeat(self, run_id: str, worker: str | None = None) -> bool:
        values: dict[str, Any] = {"heartbeat_at": time.time()}
        if worker is not None:
            values["worker"] = worker

        def tx() -> bool:
            with write_tx(self.engine) as conn:
                conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))
                return bool(conn.execute(select(RUNS.c.cancel_requested).where(RUNS.c.id == run_id)).scalar())

        return with_retries(tx)

    def request_cancel(self, run_id: str, reason: str | None = None) -> RunInfo:
        if reason is not None:
            reason = validate_value("cancel", "reason", reason, MAX_TAG_VALUE_LENGTH)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                current = self._current_status(conn, run_id)
                check_transition(current, RunStatus.CANCELED)
                values: dict[str, Any] = {"cancel_requested": True, "cancel_reason": reason}
                if current == RunStatus.QUEUED:  # nothing runs yet: cancel at once, saying why
                    values.update(status=RunStatus.CANCELED.value, end_time=time.time(), error=reason)
                conn.execute(
                    update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == current.value).values(**values)
                )

        with_retries(tx)
        return self.get_run(run_id)

    def set_run_error(self, run_id: str, error: str | None) -> None:
        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(error=error))

        with_retries(tx)

    # metrics, params, tags ---------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        *,
        batch_id: str | None = None,
        attempt: int | None = None,
    ) -> None:
        batch = rows.Batch.of(run_id, metrics, params or {}, tags or {})  # validated before any write
        key = None if batch_id is None else _batch_key(run_id, batch_id)

        def write(conn: Connection) -> dict[str, Any]:
            experiment_id = conn.execute(
                select(RUNS.c.experiment_id).where(RUNS.c.id == run_id).with_for_update(key_share=True)
            ).scalar()
            current = self._attempt(conn, run_id)  # NotFoundError for a run that is not there
            batch.write(conn, str(experiment_id), _made(run_id, attempt, current), current)
            return {"run_id": run_id}

        self._once("metric batch", key, write)

    def get_metric_history(
        self, run_id: str, key: str | None = None, *, attempt: int | None = None
    ) -> list[Metric]:
        query = select(
            METRICS.c.key,
            METRICS.c.value,
            METRICS.c.is_nan,
            METRICS.c.negative_zero,
            METRICS.c.step,
            METRICS.c.timestamp,
        ).where(METRICS.c.run_id == run_id)
        if key is not None:
            query = query.where(METRICS.c.key == key)
        query = query.order_by(METRICS.c.key, METRICS.c.step, METRICS.c.timestamp, METRICS.c.id)
        with read_tx(self.engine) as conn:
            query = query.where(METRICS.c.attempt == _made(run_id, attempt, self._attempt(conn, run_id)))
            return [Metric(k, _metric_value(v, nan, nz), s, t) for k, v, nan, nz, s, t in conn.execute(query)]

    def get_metric_series(
        self,
        run_id: str,
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        attempt: int | None = None,
    ) -> MetricSeries:
        _check_points(points)
        with read_tx(self.engine) as conn:
            made = _made(run_id, attempt, self._attempt(conn, run_id))
            return _series(conn, key, points, [(run_id, made)], (min_step, max_step))[0]

    def get_metric_series_of_runs(
        self,
        run_ids: Sequence[str],
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]:
        _check_points(points)
        asked = list(dict.fromkeys(run_ids))
        if not asked:
            return []
        with read_tx(self.engine) as conn:
            made = dict(conn.execute(select(RUNS.c.id, RUNS.c.attempt).where(RUNS.c.id.in_(asked))).all())
            missing = next((r for r in asked if r not in made), None)
            if missing is not None:
                raise NotFoundError(f"no run with id {missing!r}")
            found = []
            for first in range(0, len(asked), _SERIES_AT_ONCE):
                chunk = [(r, int(made[r])) for r in asked[first : first + _SERIES_AT_ONCE]]
                found += _series(conn, key, points, chunk, (min_step, max_step))
        by_run = dict(zip(asked, found, strict=True))
        return [by_run[r] for r in run_ids]

    def _attempt(self, conn: Connection, run_id: str) -> int:
        """The run's attempt count: the attempt its metrics are written under and read from."""
        attempt = conn.execute(select(RUNS.c.attempt).where(RUNS.c.id == run_id)).scalar()
        if attempt is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        return int(attempt)

    def delete_tag(self, run_id: str, key: str) -> None:
        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(delete(TAGS).where(TAGS.c.run_id == run_id, TAGS.c.key == key))

        with_retries(tx)

    def update_run_tags(self, run_ids: Sequence[str], tags: dict[str, str | None]) -> None:
        ids, changes = check_run_ids(run_ids), tag_changes(tags)
        values = {k: v for k, v in changes.items() if v is not None}
        setting = [{"run_id": r, "key": k, "value": v} for r in ids for k, v in values.items()]

        def tx() -> None:
            with write_tx(self.engine) as conn:
                found = set(conn.execute(select(RUNS.c.id).where(RUNS.c.id.in_(ids))).scalars())
                missing = [r for r in ids if r not in found]
                if missing:
                    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                    raise NotFoundError(f"no run {', '.join(missing[:10])}{more}; nothing was changed")
                if changes:
                    conn.execute(delete(TAGS).where(TAGS.c.run_id.in_(ids), TAGS.c.key.in_(list(changes))))
                if setting:
                    conn.execute(insert(TAGS), setting)

        with_retries(tx)
