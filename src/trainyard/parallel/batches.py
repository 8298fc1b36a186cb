"""Splitting a parallel job's input into mini-batches.

A folder of files -> its files, sorted by path, ``mini_batch_size`` at a time (``run()`` gets a
list of paths). A table (a .csv or .parquet file, or a folder holding such files, read in path
order as one table) -> chunks of ``mini_batch_size`` rows, or of about ``mini_batch_size`` bytes
of the files ("1mb"), or one mini-batch per distinct combination of ``partition_keys`` (``run()``
gets a DataFrame). Mini-batches are numbered in input order, which is the order of the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from trainyard.data.table import FORMATS, read_table
from trainyard.errors import InvalidInputError
from trainyard.parallel.settings import DEFAULT_FILES_PER_BATCH, DEFAULT_TABLE_BATCH_BYTES, ParallelSettings

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["files", "table"]


@dataclass(frozen=True)
class MiniBatchContext:
    """What a ``run(mini_batch, mini_batch_context)`` with two parameters gets, as in Azure."""

    minibatch_index: int
    partition_key_value: dict[str, Any] | None = None


@dataclass(frozen=True)
class MiniBatch:
    """One unit of work: ``data`` is a list of file paths or a DataFrame of ``size`` rows."""

    index: int
    data: list[str] | pd.DataFrame
    size: int  # files or rows
    label: str  # how the log and the errors name it
    context: MiniBatchContext = field(repr=False, default=MiniBatchContext(0))


def input_kind(path: Path, kind: Kind | None) -> Kind:
    """``kind`` if given; else a file is a table and a folder is a folder of files."""
    if not path.exists():
        raise InvalidInputError(f"the input {path} does not exist")
    if kind is not None:
        return kind
    return "table" if path.is_file() else "files"


def split(path: Path, settings: ParallelSettings, kind: Kind | None = None) -> list[MiniBatch]:
    """The mini-batches of the input at ``path``, in order."""
    kind = input_kind(path, kind)
    if kind == "files":
        if settings.partition_keys:
            raise InvalidInputError(
                f"partition_keys split a table, but the input {path} is a folder of files"
            )
        if settings.batch_bytes() is not None:
            raise InvalidInputError(
                "for a folder of files mini_batch_size is a number of files, "
                f"not {settings.mini_batch_size!r}"
            )
        return file_batches(list_files(path), settings.batch_count() or DEFAULT_FILES_PER_BATCH)
    frame, on_disk = read_input_table(path)
    if settings.partition_keys:
        return partition_batches(frame, settings.partition_keys)
    rows = settings.batch_count() or _rows_for_bytes(
        settings.batch_bytes() or DEFAULT_TABLE_BATCH_BYTES, on_disk, len(frame)
    )
    return row_batches(frame, rows)


def list_files(path: Path) -> list[Path]:
    """Every file under ``path`` (itself if it is a file), sorted by path."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())  # by their parts: a folder's files together


def file_batches(files: list[Path], count: int) -> list[MiniBatch]:
    batches = []
    for index, start in enumerate(range(0, len(files), count)):
        chunk = files[start : start + count]
        label = chunk[0].name if len(chunk) == 1 else f"{chunk[0].name}..{chunk[-1].name}"
        batches.append(
            MiniBatch(
                index, [str(p) for p in chunk], len(chunk), f"#{index} ({label})", MiniBatchContext(index)
            )
        )
    return batches


def table_files(path: Path) -> list[Path]:
    """The table itself, or the .csv/.parquet files in a folder (sorted by relative path)."""
    if path.is_file():
        return [path]
    found = [p for p in list_files(path) if p.suffix.lower() in FORMATS]
    if not found:
        raise InvalidInputError(f"the input folder {path} holds no .csv or .parquet table")
    return found


def read_input_table(path: Path, what: str = "the parallel job's input") -> tuple[pd.DataFrame, int]:
    """The table at ``path`` (its files concatenated) and its size on disk in bytes."""
    import pandas as pd

    files = table_files(path)
    frames = [read_table(p, what) for p in files]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame, sum(p.stat().st_size for p in files)


def _rows_for_bytes(limit: int, on_disk: int, rows: int) -> int:
    """Rows per mini-batch so that each holds about ``limit`` bytes of the files."""
    if rows == 0:
        return 1
    return max(1, int(limit * rows / max(on_disk, 1)))


def row_batches(frame: pd.DataFrame, count: int) -> list[MiniBatch]:
    frame = frame.reset_index(drop=True)
    batches = []
    for index, start in enumerate(range(0, len(frame), count)):
        chunk = frame.iloc[start : start + count]
        end = start + len(chunk) - 1
        batches.append(
            MiniBatch(index, chunk, len(chunk), f"#{index} (rows {start}-{end})", MiniBatchContext(index))
        )
    return batches


def partition_batches(frame: pd.DataFrame, keys: list[str]) -> list[MiniBatch]:
    """One mini-batch per distinct combination of ``keys``, in sorted key order."""
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        raise InvalidInputError(
            f"partition_keys: the table has no column {', '.join(missing)} (columns: {columns})"
        )
    batches = []
    for index, (values, chunk) in enumerate(frame.groupby(keys, sort=True, dropna=False)):
        value = dict(zip(keys, values if isinstance(values, tuple) else (values,), strict=True))
        value = {k: v.item() if hasattr(v, "item") else v for k, v in value.items()}  # numpy -> Python
        label = ", ".join(f"{k}={v}" for k, v in value.items())
        batches.append(
            MiniBatch(
                index,
                chunk.reset_index(drop=True),
                len(chunk),
                f"#{index} ({label})",
                MiniBatchContext(index, value),
            )
        )
    return batches
