"""``append_row``: what ``run()`` returns, as lines of ``parallel_run_step.txt``.

Each worker writes its mini-batch's lines to a part file of its own; when every mini-batch is
done the runner joins the parts in mini-batch order into a hidden temporary file beside the
output and renames it, so the output appears whole or not at all.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trainyard.parallel.settings import OUTPUT_FILE


def result_lines(result: Any) -> tuple[str, int]:
    """The text of ``result`` (one line per row) and its number of rows.

    A DataFrame gives its rows as CSV (no header, no index); a list gives one line per item: a
    string as it is, a list/tuple/dict item as a CSV row, anything else as ``str(item)``.
    """
    pd = sys.modules.get("pandas")  # a DataFrame can only come from a script that imported pandas
    if pd is not None and isinstance(result, pd.DataFrame):
        return result.to_csv(header=False, index=False, lineterminator="\n"), len(result)
    if hasattr(result, "tolist"):  # a Series or a numpy array
        result = result.tolist()
    if not isinstance(result, list | tuple):
        raise TypeError(
            f"run() returned {type(result).__name__}; return a list (one item per row) or a DataFrame"
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for item in result:
        if isinstance(item, str):
            out.write(item if item.endswith("\n") else item + "\n")
        elif isinstance(item, Mapping):
            writer.writerow(item.values())
        elif isinstance(item, list | tuple):
            writer.writerow(item)
        else:
            out.write(f"{item}\n")
    return out.getvalue(), len(result)


def part_path(parts: Path, index: int) -> Path:
    return parts / f"{index:08d}.txt"


def write_part(parts: Path, index: int, text: str) -> None:
    """Mini-batch ``index``'s lines, written whole (a retry replaces them)."""
    final = part_path(parts, index)
    tmp = final.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, final)


def assemble(parts: Path, indexes: Iterable[int], output: Path) -> Path:
    """Join the parts of ``indexes`` (in that order) into ``output/parallel_run_step.txt``."""
    output.mkdir(parents=True, exist_ok=True)
    final = output / OUTPUT_FILE
    tmp = output / f".{OUTPUT_FILE}.partial"
    try:
        with open(tmp, "wb") as out:
            for index in indexes:
                with open(part_path(parts, index), "rb") as part:
                    while chunk := part.read(1 << 20):
                        out.write(chunk)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final
