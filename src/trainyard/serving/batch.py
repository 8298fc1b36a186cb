"""Batch scoring: a model over a CSV, Parquet or JSON-lines file, chunk by chunk, as a job.

Only one chunk is in memory at a time, so files larger than memory score; the output is written
next to a temporary name and renamed when complete, and each chunk logs ``rows_scored`` so the
run shows progress. The model gets only its signature's columns (or the ones scikit-learn saw
when it was fitted); the others (IDs, labels) are written to the output as they came, with the
predictions, in the input's order.

With an entry script, scoring is Azure's batch deployment contract: ``init()`` once, then
``run(mini_batch)`` per mini-batch (a list of file paths for a folder input, a DataFrame for a
table), each returned row appended to the output (``append_row``); items ``run`` returned no
row for, or all of a mini-batch whose ``run`` raised, count as failed, and more failures than
the error threshold (-1: no limit) fail the job.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.serving.codecs import as_list

if TYPE_CHECKING:
    from trainyard.tracking import TrackedRun

SUFFIXES = (".csv", ".parquet", ".jsonl", ".json")
PREDICTION = "prediction"
DEFAULT_ROWS = 10_000  # rows in a chunk (a mini-batch of a table)
DEFAULT_FILES = 10  # files in a mini-batch of a folder, as Azure's mini_batch_size


def check_paths(source: Path, target: Path, scripted: bool = False) -> None:
    """A file (or, for an entry script, a folder) to read and an output of a kind we write."""
    if source.is_dir() and not scripted:
        raise InvalidInputError(
            f"input {source} is a folder: its files are scored by an entry script (--entry-script, "
            "whose run(mini_batch) gets their paths); the model alone scores one table file"
        )
    if not source.exists():
        raise InvalidInputError(f"input {source} does not exist")
    for path in (target,) if source.is_dir() else (source, target):
        if path.suffix.lower() not in SUFFIXES:
            raise InvalidInputError(
                f"{path.name}: batch scoring reads and writes {', '.join(SUFFIXES)} files"
            )


def files_in(folder: Path) -> list[Path]:
    """The files under ``folder`` (hidden ones left out), in a stable order."""
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not found:
        raise InvalidInputError(f"input folder {folder} holds no files to score")
    return found


def read_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()
    elif suffix == ".csv":
        yield from pd.read_csv(path, chunksize=rows)
    else:
        yield from pd.read_json(path, lines=True, chunksize=rows)


class _Writer:
    """Appends scored chunks to ``path`` (via a temporary file renamed at the end)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.partial")
        self.parquet: Any = None
        self.first = True
        self.columns: list[str] = []

    def write(self, frame: pd.DataFrame) -> None:
        if self.first:
            self.columns = [str(c) for c in frame.columns]
        elif [str(c) for c in frame.columns] != self.columns:
            raise InvalidInputError(
                f"rows with the columns {list(frame.columns)} after rows with {self.columns}: "
                "every mini-batch must give the same columns"
            )
        suffix = self.path.suffix.lower()
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.tmp, table.schema)
            self.parquet.write_table(table)
        elif suffix == ".csv":
            frame.to_csv(self.tmp, mode="w" if self.first else "a", header=self.first, index=False)
        else:
            frame.to_json(self.tmp, orient="records", lines=True, mode="w" if self.first else "a")
        self.first = False

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        os.replace(self.tmp, self.path)


@contextmanager
def all_or_nothing(path: Path, nothing_written: Callable[[], str]) -> Iterator[_Writer]:
    """A writer whose file appears at ``path`` only if the block ends well having written rows
    (else an error saying ``nothing_written()``); otherwise no output, not even a partial one."""
    writer = _Writer(path)
    try:
        yield writer
        if writer.first:
            raise InvalidInputError(nothing_written())
        writer.close()
    except BaseException:
        writer.tmp.unlink(missing_ok=True)
        raise


def model_columns(model: Any) -> list[str] | None:
    """The columns ``model`` takes (None: it did not say, so it gets every column)."""
    signature = getattr(model, "signature", None)
    if signature is not None and signature.inputs.tensor is None and signature.inputs.names:
        return list(signature.inputs.names)
    fitted = getattr(getattr(model, "model", model), "feature_names_in_", None)  # scikit-learn's
    return None if fitted is None else [str(name) for name in fitted]


def score_file(model: Any, source: Path, target: Path, rows: int, report: Any = None) -> int:
    """Score ``source`` into ``target``: its columns plus ``prediction``; returns the row count."""
    wanted = model_columns(model)
    done = 0
    with all_or_nothing(target, lambda: f"{source} holds no rows") as writer:
        for chunk in read_chunks(source, rows):
            if chunk.empty:
                continue
            features = chunk if wanted is None else chunk[[c for c in chunk.columns if c in wanted]]
            predictions = model.predict(features)
            writer.write(chunk.assign(**{PREDICTION: as_list(predictions)}))
            done += len(chunk)
            if report is not None:
                report(done)
    return done


@dataclass(frozen=True)
class ScriptOutcome:
    """What ``run`` made of the input: items it scored, items that failed, rows written."""

    succeeded: int
    failed: int
    rows: int


def mini_batches(source: Path, size: int) -> Iterator[list[str] | pd.DataFrame]:
    """``size`` file paths at a time from a folder, or ``size`` rows at a time from a table."""
    if source.is_dir():
        paths = [str(p) for p in files_in(source)]
        for start in range(0, len(paths), size):
            yield paths[start : start + size]
        return
    for chunk in read_chunks(source, size):
        if not chunk.empty:
            yield chunk


def _rows(result: Any) -> pd.DataFrame:
    """What ``run`` returned as output rows: a DataFrame's rows, or one row per list element."""
    if isinstance(result, pd.DataFrame):
        frame = result
    elif isinstance(result, list | tuple | np.ndarray | pd.Series):
        frame = pd.DataFrame(list(result))
    else:
        raise InvalidInputError(
            f"run(mini_batch) returned a {type(result).__name__}; return a list or a pandas DataFrame "
            "with a row for each item it scored"
        )
    frame.columns = [str(c) for c in frame.columns]
    return frame


def score_with_script(
    script: ModuleType,
    batches: Iterable[list[str] | pd.DataFrame],
    target: Path,
    error_threshold: int = -1,
    report: Callable[[int, int], None] | None = None,
) -> ScriptOutcome:
    """Append what ``script.run`` returns for each mini-batch to ``target`` (all or nothing)."""
    succeeded = failed = rows = 0
    with all_or_nothing(target, lambda: f"run(mini_batch) gave no rows ({failed} items failed)") as writer:
        for number, batch in enumerate(batches, start=1):
            try:
                result = script.run(batch)
            except Exception as exc:  # the script's own failure: its items fail, the others go on
                print(f"mini-batch {number}: run() failed: {type(exc).__name__}: {exc}", flush=True)
                failed += len(batch)
            else:
                frame = _rows(result)
                succeeded += min(len(frame), len(batch))
                failed += max(len(batch) - len(frame), 0)
                if len(frame):
                    writer.write(frame)
                    rows += len(frame)
            if report is not None:
                report(succeeded, failed)
            if 0 <= error_threshold < failed:
                raise TrainyardError(
                    f"{failed} items failed, more than the error threshold of {error_threshold}; "
                    "the log says why, and no output was written"
                )
    return ScriptOutcome(succeeded, failed, rows)


def model_uri(ref: str) -> str:
    """A folder or URI as it is; ``name``, ``name:3``, ``name@alias`` from the registry."""
    return ref if ":/" in ref or Path(ref).is_dir() else f"models:/{ref}"


def main(argv: list[str] | None = None) -> None:
    from trainyard.tracking import TrackedRun, current_run

    parser = argparse.ArgumentParser(prog="trainyard batch score")
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--entry-script", default=None)
    parser.add_argument("--error-threshold", type=int, default=-1)
    args = parser.parse_args(argv)
    run = current_run(TrackedRun)
    run.set_tags(
        {"batch.model": args.model, "batch.input": str(args.input), "batch.output": str(args.output)}
    )
    if args.entry_script:
        _score_with_script(run, args)
        return
    from trainyard.models import load

    model = load(model_uri(args.model), workspace=run.workspace)

    def report(done: int) -> None:
        run.log("rows_scored", done)
        print(f"scored {done} rows", flush=True)

    total = score_file(model, args.input, args.output, args.chunk_size or DEFAULT_ROWS, report)
    print(f"wrote {total} predictions to {args.output}", flush=True)


def _score_with_script(run: TrackedRun, args: argparse.Namespace) -> None:
    from trainyard.models.format import fetch
    from trainyard.serving.entry_script import load_entry_script

    run.set_tags({"batch.entry_script": Path(args.entry_script).name})
    folder = fetch(model_uri(args.model), run.workspace, scripted=True)  # the script loads any files
    script = load_entry_script(args.entry_script, folder, "mini_batch")
    size = args.chunk_size or (DEFAULT_FILES if args.input.is_dir() else DEFAULT_ROWS)

    def report(succeeded: int, failed: int) -> None:
        run.log_metrics({"items_succeeded": succeeded, "items_failed": failed})
        print(f"{succeeded} items scored, {failed} failed", flush=True)

    outcome = score_with_script(
        script, mini_batches(args.input, size), args.output, args.error_threshold, report
    )
    print(
        f"wrote {outcome.rows} rows to {args.output} ({outcome.succeeded} items scored, "
        f"{outcome.failed} failed)",
        flush=True,
    )


if __name__ == "__main__":
    main()
