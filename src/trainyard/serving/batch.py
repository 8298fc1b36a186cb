"""Batch scoring: a model over a CSV, Parquet or JSON-lines file, chunk by chunk, as a job.

Only one chunk is in memory at a time, so files larger than memory score; the output is written
next to a temporary name and renamed when complete, and each chunk logs ``rows_scored`` so the
run shows progress.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from trainyard.errors import InvalidInputError
from trainyard.serving.codecs import as_list

SUFFIXES = (".csv", ".parquet", ".jsonl", ".json")
PREDICTION = "prediction"


def check_paths(source: Path, target: Path) -> None:
    if not source.is_file():
        raise InvalidInputError(f"input {source} does not exist")
    for path in (source, target):
        if path.suffix.lower() not in SUFFIXES:
            raise InvalidInputError(
                f"{path.name}: batch scoring reads and writes {', '.join(SUFFIXES)} files"
            )


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

    def write(self, frame: pd.DataFrame) -> None:
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


def score_file(model: Any, source: Path, target: Path, rows: int, report: Any = None) -> int:
    """Score ``source`` into ``target``: its columns plus ``prediction``; returns the row count."""
    writer = _Writer(target)
    done = 0
    try:
        for chunk in read_chunks(source, rows):
            if chunk.empty:
                continue
            predictions = model.predict(chunk)
            writer.write(chunk.assign(**{PREDICTION: as_list(predictions)}))
            done += len(chunk)
            if report is not None:
                report(done)
        if writer.first:
            raise InvalidInputError(f"{source} holds no rows")
        writer.close()
    except BaseException:
        writer.tmp.unlink(missing_ok=True)
        raise
    return done


def model_uri(ref: str) -> str:
    """A folder or URI as it is; ``name``, ``name:3``, ``name@alias`` from the registry."""
    return ref if ":/" in ref or Path(ref).is_dir() else f"models:/{ref}"


def main(argv: list[str] | None = None) -> None:
    from trainyard.models import load
    from trainyard.tracking import TrackedRun, current_run

    parser = argparse.ArgumentParser(prog="trainyard batch score")
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    args = parser.parse_args(argv)
    run = current_run(TrackedRun)
    model = load(model_uri(args.model), workspace=run.workspace)
    run.set_tags(
        {"batch.model": args.model, "batch.input": str(args.input), "batch.output": str(args.output)}
    )

    def report(done: int) -> None:
        run.log("rows_scored", done)
        print(f"scored {done} rows", flush=True)

    total = score_file(model, args.input, args.output, args.chunk_size, report)
    print(f"wrote {total} predictions to {args.output}", flush=True)


if __name__ == "__main__":
    main()
