"""``TrackedRun``: what a training script, a driver or a component logs to. The SDK's ``Run`` builds on it.

The method names and keywords follow Azure ML SDK v1's ``azureml.core.Run`` so that a script
written for it runs with only its import line changed: ``log`` of the same name twice makes a
series, files written to ``./outputs`` are uploaded when the job ends.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from trainyard.artifacts import run_key, safe_name
from trainyard.errors import InvalidInputError
from trainyard.status import RunStatus
from trainyard.store import Metric, RunInfo
from trainyard.store.validation import as_metric_value, validate_key
from trainyard.tracking import ownership
from trainyard.tracking.buffer import MetricBuffer, buffer_for

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

TABLES = "tables"
IMAGES = "images"
R = TypeVar("R", bound="TrackedRun")


class TrackedRun:
    """A run of the workspace ``ws``; cheap to create, reads the store on demand.

    ``job_owned``: the run is a submitted job's own, which its worker finishes when the script
    exits; ``complete`` and ``fail`` then only flush and record the error.
    ``metrics_muted``: metrics and tables are dropped (a distributed job's rank other than 0).
    """

    metrics_muted = False

    def __init__(
        self, ws: Workspace, run_id: str, info: RunInfo | None = None, *, job_owned: bool = False
    ) -> None:
        self.workspace = ws
        self.id = run_id
        self._info = info
        self._job_owned = job_owned
        self._steps: dict[str, int] = defaultdict(int)
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, status={self.get_status()!r})"

    @classmethod
    def start(
        cls: type[R],
        ws: Workspace,
        experiment_id: str,
        *,
        compute: str | None,
        name: str | None = None,
        parent_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> R:
        """A new run, running now, owned by this process: finished at exit if not before."""
        info = ws.store.create_run(
            experiment_id,
            name=name,
            parent_id=parent_id,
            status=RunStatus.RUNNING,
            compute=compute,
            tags=tags,
        )
        run = cls(ws, info.id, info)
        ownership.own(ws.store, run.id)
        return run

    # state -----------------------------------------------------------------------------------
    @property
    def _buffer(self) -> MetricBuffer:
        return buffer_for(self.workspace.store)

    @property
    def info(self) -> RunInfo:
        if self._info is None:
            self._info = self.workspace.store.get_run(self.id)
        return self._info

    def refresh(self) -> RunInfo:
        self._info = None
        return self.info

    @property
    def name(self) -> str:
        return self.info.name

    display_name = name

    @property
    def experiment_id(self) -> str:
        return self.info.experiment_id

    @property
    def tags(self) -> dict[str, str]:
        return self.refresh().tags

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_status(self) -> str:
        return self.refresh().status.value

    # metrics ---------------------------------------------------------------------------------
    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log one value; logging the same name again appends to its series."""
        validate_key("metric", name)
        number = as_metric_value(name, value)
        if self.metrics_muted:
            return
        if step is None:
            step = self._steps[name]
        self._steps[name] = int(step) + 1
        self._buffer.add(self.id, Metric(name, number, int(step), time.time()))

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        for key, value in metrics.items():
            self.log(key, value, step=step)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        for item in value:
            self.log(name, item)

    def log_params(self, params: dict[str, Any]) -> None:
        """Hyperparameters: write-once per run (re-logging the same value is fine)."""
        self.workspace.store.log_batch(self.id, params={k: str(v) for k, v in params.items()})

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        """A table as columns ``{"col": [values…]}``; stored as JSON under ``tables/``."""
        if not isinstance(value, dict) or not all(isinstance(v, list | tuple) for v in value.values()):
            raise InvalidInputError(f"table {name!r} must be a dict of column name -> list of values")
        lengths = {len(v) for v in value.values()}
        if len(lengths) > 1:
            raise InvalidInputError(f"table {name!r} has columns of different lengths: {sorted(lengths)}")
        if self.metrics_muted:
            return
        self._put_json(f"{TABLES}/{safe_name(name)}.json", {k: list(v) for k, v in value.items()})

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append one row to a table; rows are written as a table of columns."""
        rows = self._rows.setdefault(name, [])
        rows.append(kwargs)
        columns: dict[str, list[Any]] = {k: [] for row in rows for k in row}
        for row in rows:
            for key in columns:
                columns[key].append(row.get(key))
        self.log_table(name, columns)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """A PNG file (``path``) or a matplotlib figure / pyplot module (``plot``)."""
        if (path is None) == (plot is None):
            raise InvalidInputError(
                "log_image needs exactly one of path= (a PNG file) or plot= (a matplotlib figure)"
            )
        key = f"{IMAGES}/{safe_name(name)}.png"
        if path is not None:
            self.upload_file(key, path)
            return
        figure = plot.gcf() if hasattr(plot, "gcf") else plot
        if not hasattr(figure, "savefig"):
            raise InvalidInputError("plot= must be a matplotlib figure or matplotlib.pyplot")
        buf = io.BytesIO()
        figure.savefig(buf, format="png")
        self.workspace.artifacts.put_bytes(run_key(self.id, key), buf.getvalue())

    def set_tags(self, tags: dict[str, Any]) -> None:
        self.workspace.store.log_batch(
            self.id, tags={k: "" if v is None else str(v) for k, v in tags.items()}
        )

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: value})

    def flush(self) -> None:
        self._buffer.flush(self.id)

    def get_metrics(self, name: str | None = None, *, attempt: int | None = None) -> dict[str, Any]:
        """``{name: value}`` for single values, ``{name: [values…]}`` for series, tables as dicts.

        The values of the run's last attempt (a retried job starts its series again), or of
        ``attempt`` (1 is the first).
        """
        self.flush()
        series: dict[str, list[float]] = defaultdict(list)
        for m in self.workspace.store.get_metric_history(self.id, name, attempt=attempt):
            series[m.key].append(m.value)
        result: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in series.items()}
        for file in self.workspace.artifacts.list(run_key(self.id, TABLES)):
            table = file.removesuffix(".json")
            if name is None or name == table:
                result[table] = json.loads(
                    self.workspace.artifacts.get_bytes(run_key(self.id, f"{TABLES}/{file}"))
                )
        return result

    def get_metric_history(self, name: str, *, attempt: int | None = None) -> list[Metric]:
        """The series ``name`` of the run's last attempt, or of ``attempt``."""
        self.flush()
        return self.workspace.store.get_metric_history(self.id, name, attempt=attempt)

    # files -----------------------------------------------------------------------------------
    def _put_json(self, name: str, value: Any) -> None:
        self.workspace.artifacts.put_bytes(run_key(self.id, name), json.dumps(value, default=str).encode())

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        key = run_key(self.id, name)
        if hasattr(path_or_stream, "read"):
            self.workspace.artifacts.put_bytes(key, path_or_stream.read())
        else:
            path = Path(path_or_stream)
            if not path.is_file():
                raise InvalidInputError(f"cannot upload {path}: no such file")
            self.workspace.artifacts.put_file(key, path)
        return safe_name(name)

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        folder = Path(path)
        if not folder.is_dir():
            raise InvalidInputError(f"cannot upload {folder}: no such folder")
        keys = self.workspace.artifacts.copy_tree_in(run_key(self.id, name), folder)
        prefix = run_key(self.id) + "/"
        return [k.removeprefix(prefix) for k in keys]

    def get_file_names(self) -> list[str]:
        return self.workspace.artifacts.list(run_key(self.id))

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> Path:
        """Download one artifact; to ``output_file_path`` (a file or a folder), else the cwd."""
        rel = safe_name(name)
        dest = Path(output_file_path) if output_file_path else Path(rel).name
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / Path(rel).name
        return self.workspace.artifacts.download(run_key(self.id, rel), dest)

    def download_files(self, prefix: str = "", output_directory: str | os.PathLike[str] = ".") -> list[Path]:
        """Download every artifact under ``prefix``, keeping relative paths."""
        out = Path(output_directory)
        base = safe_name(prefix) if prefix else ""
        done = []
        for rel in self.workspace.artifacts.list(run_key(self.id, base) if base else run_key(self.id)):
            name = f"{base}/{rel}" if base else rel
            done.append(self.workspace.artifacts.download(run_key(self.id, name), out / name))
        return done

    # lifecycle -------------------------------------------------------------------------------
    def complete(self) -> None:
        """Finish the run; inside a job the worker finishes it when the script exits."""
        if self._job_owned:
            self.flush()
            return
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None) -> None:
        if self._job_owned:
            self.flush()
            self.workspace.store.set_run_error(self.id, str(error_details or "failed by the script"))
            return
        self._finish(
            RunStatus.FAILED, str(error_details) if error_details is not None else "failed by the script"
        )

    def _finish(self, status: RunStatus, error: str | None = None) -> None:
        self.flush()
        self.workspace.store.set_status(self.id, status, error=error)
        ownership.release(self.id)
        self._info = None
