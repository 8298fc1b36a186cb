"""``data create`` of a folder of N files against ``cp -r`` of the same folder; a second create of
unchanged content (deduplicated: hashed, nothing copied); and the added start-up of a job reading
``data:x@latest`` (resolving the input: the store lookup and the hash check).

Run: ``.venv/bin/python benchmarks/data_create.py [--files 200] [--mb 50]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks._common import scratch_workspace, timer


def make_folder(root: Path, files: int, total_mb: float) -> Path:
    folder = root / "data"
    folder.mkdir()
    size = int(total_mb * 1e6 / files)
    for i in range(files):
        (folder / f"part-{i:05d}.bin").write_bytes(os.urandom(size))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--mb", type=float, default=50)
    args = parser.parse_args()

    import trainyard as ty
    from trainyard.jobs.data_inputs import resolve_data_inputs
    from trainyard.jobs.spec import CommandJob

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = make_folder(tmp, args.files, args.mb)
        ws = scratch_workspace(tmp)
        with timer() as cp:
            subprocess.run(["cp", "-r", str(folder), str(tmp / "copy")], check=True)
        shutil.rmtree(tmp / "copy")
        with timer() as first:
            made = ty.Data.create(ws, "x", folder)
        with timer() as again:
            same = ty.Data.create(ws, "x", folder)
        assert made.version == same.version == 1
        job = CommandJob(command="python t.py", inputs={"d": {"path": "data:x@latest"}})
        with timer() as resolve:
            resolve_data_inputs(ws, job)
        with timer() as later:  # its files' stat is remembered: no byte is hashed again
            resolve_data_inputs(ws, job)
        print(f"{args.files} files, {args.mb:g} MB")
        print(f"cp -r:                    {cp['s']:.3f} s")
        print(f"data create:              {first['s']:.3f} s ({first['s'] / cp['s']:.2f}x cp -r)")
        print(f"data create, unchanged:   {again['s']:.3f} s (deduplicated, version {same.version})")
        print(f"job input data:x@latest:  {resolve['s'] * 1000:.0f} ms to resolve (lookup + hash check)")
        print(f"a later job's same input: {later['s'] * 1000:.0f} ms (lookup + stat of each file)")


if __name__ == "__main__":
    main()
