"""Compile parsed run searches (``trainyard.store.search``) to one SQL query over ``runs``.

Metric filters join ``latest_metrics`` (one row per run and key) once per metric, and ordering
by a filtered metric reuses that join; params and tags filter as ``IN (subquery)``; ordering by
any other metric, param or tag left-joins that one key so runs without it still come back, last.
A page ordered by a metric is two queries (``RunSearch.bound``, then ``query(bound)``): the
page's boundary value read along ``latest_metrics``' experiment/key/value index, then a sort of
only the rows up to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, select

from trainyard.deletion import DELETED, DELETED_TAG, RunView
from trainyard.status import RunStatus
from trainyard.store.search import ATTRIBUTES, Clause, OrderBy, parse_filter, parse_order_by
from trainyard.store.sql.models import LATEST, PARAMS, RUNS, TAGS

_COMPARE = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "IN": lambda c, v: c.in_(list(v)),
    "NOT IN": lambda c, v: c.not_in(list(v)),
    "ILIKE": lambda c, v: c.ilike(v),
}


def _glob(pattern: str) -> str:
    """A LIKE pattern as a GLOB pattern: SQLite's LIKE ignores case, MLflow's LIKE does not."""
    out = []
    for ch in pattern:
        out.append({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
    return "".join(out)


def _compare(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    if op == "LIKE":
        matched: ColumnElement[bool] = (
            column.op("GLOB")(_glob(value)) if dialect == "sqlite" else column.like(value)
        )
        return matched
    compared: ColumnElement[bool] = _COMPARE[op](column, value)
    return compared


def _condition(clause: Clause, dialect: str, metrics: dict[str, Any]) -> ColumnElement[bool]:
    """The WHERE term of one clause; a metric's term is on its joined ``latest_metrics`` row."""
    if clause.entity == "attribute":
        return _compare(RUNS.c[ATTRIBUTES[clause.key][0]], clause.op, clause.value, dialect)
    if clause.entity == "metric":
        table = metrics[clause.key]
        return and_(table.c.is_nan == false(), _compare(table.c.value, clause.op, clause.value, dialect))
    table = PARAMS if clause.entity == "param" else TAGS
    matching = select(table.c.run_id).where(
        table.c.key == clause.key, _compare(table.c.value, clause.op, clause.value, dialect)
    )
    return RUNS.c.id.in_(matching)


def _ordering(query: Select[Any], orders: list[OrderBy], metrics: dict[str, Any]) -> Select[Any]:
    keys: list[Any] = []
    for n, order in enumerate(orders):
        if order.entity == "attribute":
            column: Any = RUNS.c[order.key]
            rank: Any = case((column.is_(None), 2), else_=0)
        else:
            if order.entity == "metric" and order.key in metrics:  # filtered on: already joined
                table = metrics[order.key]
            else:
                table = {"metric": LATEST, "param": PARAMS, "tag": TAGS}[order.entity].alias(f"o{n}")
                query = query.outerjoin(table, and_(table.c.run_id == RUNS.c.id, table.c.key == order.key))
            column = table.c.value
            nan = table.c.is_nan if order.entity == "metric" else false()
            rank = case((column.is_(None), 2), (nan, 1), else_=0)
        keys.append(rank)  # NaN, then runs without the key, come last either way
        keys.append(column.desc() if order.descending else column.asc())
    return query.order_by(*keys, RUNS.c.created_at.desc(), RUNS.c.id)


def in_view(query: Select[Any], view: RunView) -> Select[Any]:
    """Only the runs ``view`` shows: deleted ones (tagged so) left out, or only those."""
    if view == RunView.ALL:
        return query
    deleted = select(TAGS.c.run_id).where(TAGS.c.key == DELETED_TAG, TAGS.c.value == DELETED)
    return query.where(RUNS.c.id.in_(deleted) if view == RunView.DELETED else RUNS.c.id.not_in(deleted))


def _matching(
    dialect: str,
    experiment_ids: Sequence[str] | None,
    statuses: Iterable[RunStatus] | None,
    parent_id: str | None,
    filter_string: str | None,
    view: RunView,
) -> tuple[Select[Any], dict[str, Any]]:
    """``SELECT runs.*`` matching every condition, and the ``latest_metrics`` joined per filtered metric."""
    clauses = parse_filter(filter_string)
    query = in_view(select(RUNS), view)
    if experiment_ids is not None:
        query = query.where(RUNS.c.experiment_id.in_(list(experiment_ids)))
    if statuses is not None:
        query = query.where(RUNS.c.status.in_([RunStatus(s).value for s in statuses]))
    if parent_id is not None:
        query = query.where(RUNS.c.parent_id == parent_id)
    metrics: dict[str, Any] = {}  # one inner join per filtered metric, shared by its clauses and order
    for clause in clauses:
        if clause.entity == "metric" and clause.key not in metrics:
            query = _join_metric(query, clause.key, metrics)
        query = query.where(_condition(clause, dialect, metrics))
    return query, metrics


def _join_metric(query: Select[Any], key: str, metrics: dict[str, Any]) -> Select[Any]:
    table = metrics[key] = LATEST.alias(f"m{len(metrics)}")
    return query.join(table, and_(table.c.run_id == RUNS.c.id, table.c.key == key))


def _finite(
    query: Select[Any], key: str, metrics: dict[str, Any], experiment_ids: Sequence[str]
) -> tuple[Select[Any], Any]:
    """Only runs whose ``key`` is a number (not NaN), joined on the index that leads with the
    experiment, so that the rows come from it in the value's order."""
    if key not in metrics:
        query = _join_metric(query, key, metrics)
    table = metrics[key]
    query = query.where(table.c.experiment_id.in_(list(experiment_ids)), table.c.is_nan == false())
    return query, table.c.value


@dataclass(frozen=True)
class RunSearch:
    """One search's conditions and order, compiled to the page's queries."""

    dialect: str
    experiment_ids: Sequence[str] | None
    statuses: Iterable[RunStatus] | None
    parent_id: str | None
    filter_string: str | None
    order_by: Sequence[str] | None
    view: RunView = RunView.ALL

    def _parts(self) -> tuple[Select[Any], dict[str, Any], list[OrderBy]]:
        query, metrics = _matching(
            self.dialect, self.experiment_ids, self.statuses, self.parent_id, self.filter_string, self.view
        )
        return query, metrics, parse_order_by(list(self.order_by) if self.order_by is not None else None)

    def query(self, bound: float | None = None) -> Select[Any]:
        """``SELECT runs.*`` matching every condition, in the asked order (newest first by default).

        ``bound`` (from ``bound()``) keeps only the runs whose first order key, a metric, is a
        number at or before it in that order: the page's rows and ties, for a short sort.
        """
        query, metrics, orders = self._parts()
        if bound is not None and self.experiment_ids is not None and orders and orders[0].entity == "metric":
            query, value = _finite(query, orders[0].key, metrics, self.experiment_ids)
            query = query.where(value >= bound if orders[0].descending else value <= bound)
        return _ordering(query, orders, metrics)

    def bound(self, position: int) -> Select[Any] | None:
        """The value at ``position`` (from 0) of the first order key among the matching runs
        where it is a metric they hold as a number; None when the search is not ordered so.

        Every row up to that position in the full order has a value at or before it (numbers
        come before NaN and runs without the metric), so ``query(bound=...)`` sorts only those
        rather than every run of the experiments: the index gives them in order.
        """
        query, metrics, orders = self._parts()
        if self.experiment_ids is None or not orders or orders[0].entity != "metric":
            return None
        query, value = _finite(query, orders[0].key, metrics, self.experiment_ids)
        ordered = value.desc() if orders[0].descending else value.asc()
        return query.with_only_columns(value).order_by(ordered).offset(position).limit(1)
