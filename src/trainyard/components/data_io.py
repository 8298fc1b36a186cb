"""Import Data: CSV, TSV, Parquet and JSON lines from a path, with one-line errors for bad files.

A ragged row, a byte that is not in the encoding, an empty file or one with a header and no rows
is refused with the file, the row and what is wrong, never a parser traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component

FORMATS = ("auto", "csv", "tsv", "parquet", "jsonl")
_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _format_of(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    found = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise ComponentInputError(
            f"{path.name}: cannot tell the format from the name; "
            f"set format to one of {', '.join(FORMATS[1:])}"
        )
    return found


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line a byte offset falls on (for encoding errors)."""
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


OTHER_ENCODING = "read it with import-data and its encoding parameter (e.g. latin-1)"
"""What to do about a file in another encoding, for an input path (only import-data has ``encoding``)."""


def _check_codec(encoding: str) -> None:
    """Refuse an unknown codec before reading (both text readers would raise ``LookupError``)."""
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ComponentInputError(
            f"encoding must be a Python codec name (utf-8, latin-1, …), got {encoding!r}"
        ) from None


def _read_delimited(path: Path, sep: str, encoding: str, advice: str = OTHER_ENCODING) -> pd.DataFrame:
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return pd.read_csv(path, sep=sep, encoding=codec, index_col=False, low_memory=False)
    except UnicodeDecodeError as exc:
        line = _line_of(path, exc.start)
        raise ComponentInputError(
            f"{path.name}: line {line} is not valid {encoding} (byte 0x{exc.object[exc.start]:02x}); {advice}"
        ) from None
    except pd.errors.EmptyDataError:
        raise ComponentInputError(f"{path.name} is empty: no header and no rows") from None
    except pd.errors.ParserError as exc:
        match = _RAGGED.search(str(exc))
        if match:
            want, row_line, saw = match.groups()
            raise ComponentInputError(
                f"{path.name}: row on line {row_line} has {saw} fields, the header has {want}"
            ) from None
        raise ComponentInputError(
            f"{path.name}: cannot parse it as {'TSV' if sep == chr(9) else 'CSV'}: {exc}"
        ) from None


def _read_jsonl(path: Path, encoding: str, advice: str = OTHER_ENCODING) -> pd.DataFrame:
    rows: list[Any] = []
    try:
        with open(path, encoding=encoding) as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ComponentInputError(f"{path.name}: line {number} is not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise ComponentInputError(f"{path.name}: line {number} is not a JSON object")
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise ComponentInputError(
            f"{path.name}: line {_line_of(path, exc.start)} is not valid {encoding}; {advice}"
        ) from None
    return pd.DataFrame.from_records(rows)


def read_table(
    path: str | Path, fmt: str = "auto", encoding: str = "utf-8", advice: str = OTHER_ENCODING
) -> pd.DataFrame:
    """A table from a CSV/TSV/Parquet/JSON-lines file; a ``ComponentInputError`` for a bad file.

    ``advice`` says what to do about a file that is not valid ``encoding``."""
    path = Path(path)
    if path.is_dir():
        raise ComponentInputError(f"path: {str(path)!r} is a folder, not a table file")
    if not path.is_file():
        raise ComponentInputError(f"path: no such file {str(path)!r}")
    if path.stat().st_size == 0:
        raise ComponentInputError(f"{path.name} is empty (0 bytes)")
    kind = _format_of(path, fmt)
    if kind == "parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise ComponentInputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    else:
        _check_codec(encoding)
        if kind == "jsonl":
            df = _read_jsonl(path, encoding, advice)
        else:
            df = _read_delimited(path, "\t" if kind == "tsv" else ",", encoding, advice)
    if len(df) == 0:
        raise ComponentInputError(f"{path.name} has no rows")
    return df


@component(
    name="import-data",
    display_name="Import Data",
    category="Data",
    description="Read a table from a CSV, TSV, Parquet or JSON-lines file.",
    inputs=[],
    outputs=[Port("dataset", "table", "The table read from the file.")],
    params=[
        Param("path", "path", description="The file to read."),
        Param("format", "string", "auto", "File format; auto guesses from the file name.", choices=FORMATS),
        Param("encoding", "string", "utf-8", "Text encoding of CSV, TSV and JSON-lines files."),
    ],
)
def import_data(ctx: Context, path: str, format: str, encoding: str) -> dict[str, Any]:
    df = read_table(path, format, encoding, "set the encoding parameter (e.g. latin-1)")
    ctx.log("rows", len(df))
    ctx.log("columns", df.shape[1])
    return {"dataset": df}
