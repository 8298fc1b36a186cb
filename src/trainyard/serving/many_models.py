"""One deployment serving a whole many-models group: each request's rows routed by partition.

The group is every ready version of one model name tagged ``partition.<column>`` (what
``trainyard many-models train`` registers). A scoring worker resolves each partition's newest
version once, and looks again when the name gets a new version (checked at most every
``CHECK_SECONDS`` on requests, and at once for a partition it does not know, so a model that
``many-models retry`` just registered serves on the next request) and every ``RELIST_SECONDS``
(an archived or re-tagged version). Models are loaded on demand into a ``ModelCache`` of at most
``max_models_in_memory``, least recently used evicted first; two requests for the same cold
partition load it once. A request's partitions in memory are scored before those it must load
(which may evict them). The answers are in the request's row order.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.manymodels.score import (
    check_known,
    features,
    index_of,
    partition_columns,
    partitions_of,
    versions_of,
)
from trainyard.serving.codecs import as_list

if TYPE_CHECKING:
    from trainyard.models.format import LoadedModel
    from trainyard.store.records import ModelVersion
    from trainyard.workspace import Workspace

DEFAULT_MODELS_IN_MEMORY = 16
CHECK_SECONDS = 1.0  # how stale a worker's view of the name's newest version may be
RELIST_SECONDS = 30.0  # how stale its view of versions' statuses and tags may be
FLAVOR = "many_models"


class ModelCache:
    """At most ``capacity`` loaded models, least recently used evicted first, with counts.

    A model is loaded outside the lock, so other models are served meanwhile; a second caller
    of a model being loaded waits for that load rather than starting its own.
    """

    def __init__(self, capacity: int, load: Callable[[int], LoadedModel], say: Callable[[str], None]) -> None:
        if capacity < 1:
            raise InvalidInputError(f"max_models_in_memory must be 1 or more, not {capacity}")
        self.capacity, self._load, self._say = capacity, load, say
        self._lock = threading.Lock()
        self._models: OrderedDict[int, LoadedModel] = OrderedDict()
        self._loading: dict[int, Future[LoadedModel]] = {}
        self.loaded = self.evicted = self.hits = self.waited = 0

    def get(self, version: int, what: str) -> LoadedModel:
        """The loaded model of ``version`` (``what``: how the log names it)."""
        with self._lock:
            if version in self._models:
                self._models.move_to_end(version)
                self.hits += 1
                return self._models[version]
            pending = self._loading.get(version)
            if pending is None:
                pending = self._loading[version] = Future()
                owner = True
            else:
                self.waited += 1
                owner = False
        if not owner:
            return pending.result()
        started = time.monotonic()
        try:
            model = self._load(version)
        except BaseException as exc:
            with self._lock:
                del self._loading[version]
            pending.set_exception(exc)
            raise
        gone = []
        with self._lock:
            self._models[version] = model
            self.loaded += 1
            while len(self._models) > self.capacity:
                gone.append(self._models.popitem(last=False)[0])
                self.evicted += 1
            del self._loading[version]
            held = len(self._models)
        pending.set_result(model)
        took = (time.monotonic() - started) * 1000
        evicted = f"; evicted version {', '.join(map(str, gone))}" if gone else ""
        self._say(f"loaded {what} in {took:.0f} ms ({held} of {self.capacity} in memory{evicted})")
        return model

    def held(self) -> set[int]:
        """The versions loaded now."""
        with self._lock:
            return set(self._models)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "in_memory": list(self._models),
                "max_models_in_memory": self.capacity,
                "loaded": self.loaded,
                "evicted": self.evicted,
                "hits": self.hits,
                "waited": self.waited,
            }


@dataclass
class _View:
    columns: list[str]
    index: dict[str, ModelVersion]
    latest: int  # the name's newest version when it was listed
    listed_at: float


class ModelGroup:
    """What a many-models scoring worker serves: ``predict`` routes rows to their partitions' models."""

    signature = None  # each partition's model has its own
    flavor = FLAVOR

    def __init__(
        self, ws: Workspace, name: str, max_models_in_memory: int = DEFAULT_MODELS_IN_MEMORY
    ) -> None:
        from trainyard.models import load

        self.ws, self.name = ws, name
        self.cache = ModelCache(
            max_models_in_memory,
            lambda version: load(f"models:/{name}/{version}", workspace=ws),
            lambda line: print(f"many models {name}: {line}", flush=True),
        )
        self._lock = threading.Lock()
        self._view = self._list()
        self._checked = time.monotonic()

    def _latest(self) -> int:
        try:
            return self.ws.store.get_registered_model(self.name).latest_version
        except NotFoundError:
            return 0

    def _list(self) -> _View:
        latest = self._latest()
        versions = versions_of(self.ws, self.name)
        columns = partition_columns(self.name, versions)
        return _View(columns, index_of(self.name, versions, columns), latest, time.monotonic())

    def _current(self, force: bool = False) -> _View:
        """The view, listed again if the name has a newer version (or it is ``RELIST_SECONDS`` old)."""
        now = time.monotonic()
        with self._lock:
            view = self._view
            if not force and now - self._checked < CHECK_SECONDS:
                return view
            self._checked = now
        if now - view.listed_at < RELIST_SECONDS and self._latest() == view.latest:
            return view
        fresh = self._list()
        with self._lock:
            self._view = fresh
        return fresh

    @property
    def columns(self) -> list[str]:
        return self._view.columns

    def predict(self, data: Any) -> list[Any]:
        """Each row's prediction by its partition's model, in the rows' order."""
        if not isinstance(data, pd.DataFrame):
            raise InvalidInputError(
                "a many-models deployment needs rows with column names, the partition column(s) "
                f"{', '.join(self.columns)} among them: send objects, or columns with the data"
            )
        frame = data.reset_index(drop=True)
        view = self._current()
        keys = partitions_of(frame, view.columns, "the request")
        if any(k not in view.index for k in keys):  # a model registered since: look at once
            view = self._current(force=True)
            keys = partitions_of(frame, view.columns, "the request")
        check_known(self.name, keys, view.index)
        predictions: list[Any] = [None] * len(frame)
        held = self.cache.held()  # the partitions in memory first: a load may evict one of them
        for key in sorted(keys, key=lambda k: view.index[k].version not in held):
            rows, version = keys[key], view.index[key]
            model = self.cache.get(version.version, f"{key} ({self.name}:{version.version})")
            answers = as_list(model.predict(features(model, frame.iloc[rows], view.columns)))
            for row, value in zip(rows, answers, strict=True):
                predictions[row] = value
        return predictions

    def stats(self) -> dict[str, Any]:
        """What the health routes show: the group, and the cache's loads and evictions."""
        view = self._view
        stats = self.cache.stats()
        keys = {v.version: key for key, v in view.index.items()}
        held = [f"{keys.get(v, 'replaced')} ({self.name}:{v})" for v in stats.pop("in_memory")]
        return {
            "model": self.name,
            "partition_columns": view.columns,
            "partitions": len(view.index),
            "in_memory": held,
            **stats,
        }


def group_columns(ws: Workspace, name: str) -> list[str]:
    """The partition columns of the group ``name``: a deployment of it is refused without any."""
    return partition_columns(name, versions_of(ws, name))
