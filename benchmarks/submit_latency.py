"""Submit-to-first-line for a job on the default environment, against plain ``python script.py``.

The script's first line prints ``time.time()``. For trainyard the clock starts before
``Experiment.submit`` (validation, snapshot, the run record, the detached worker, its slot,
the snapshot copy, the command); for the baseline before ``subprocess.Popen`` of the same
script. The difference is what trainyard adds.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402

SCRIPT = "import time; print(time.time(), flush=True)\n"
REPEAT = 7


def first_line_time(text: str) -> float:
    for line in text.splitlines():
        if not line.startswith("[trainyard]") and line.strip():
            return float(line.split()[0])
    raise AssertionError(f"no first line in {text!r}")


def main() -> list[str]:
    import statistics

    import trainyard as ty

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "src"
        src.mkdir()
        (src / "script.py").write_text(SCRIPT)
        ws = scratch_workspace(tmp)
        exp = ty.Experiment(ws, "latency")
        ours, plain = [], []
        for _ in range(REPEAT):
            start = time.time()
            run = exp.submit(ty.ScriptRunConfig(source_directory=src, script="script.py"))
            run.wait_for_completion()
            ours.append(first_line_time(run.log_text()[0]) - start)
            start = time.time()
            out = subprocess.run(
                [sys.executable, str(src / "script.py")], capture_output=True, text=True, check=True
            )
            plain.append(float(out.stdout.split()[0]) - start)
    o, p = statistics.median(ours), statistics.median(plain)
    return [row(f"submit to first line (median of {REPEAT})", o, "plain python script.py", p, added=True)]


if __name__ == "__main__":
    print("\n".join(main()))
