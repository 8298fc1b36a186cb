"""``import sklearn.ensemble`` in a built environment, byte-compiled at build time or not.

Jobs run with ``PYTHONDONTWRITEBYTECODE=1`` here (as on machines that set it), so an import writes
no ``.pyc`` and an environment left uncompiled recompiles scikit-learn, SciPy and NumPy's Python
files in every job. The baseline is the same environment with its ``__pycache__`` folders
removed: what a build before byte-compiling left. Also reported: what byte-compiling costs, once,
at build time. Needs the package index (or uv's cache) to build the environment.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, timer  # noqa: E402

REPEAT = 5
IMPORT = "import sklearn.ensemble"


def _import_seconds(python: str) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh interpreter importing scikit-learn's ensembles, as a
    job's script would (CPU time, user + system, is what other load on the machine leaves alone)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with timer() as t:
        subprocess.run([python, "-c", IMPORT], env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t["s"], (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _medians(python: str) -> tuple[float, float]:
    runs = [_import_seconds(python) for _ in range(REPEAT)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> list[str]:
    from trainyard.environments import Environment, resolve
    from trainyard.environments.builder import _compile_bytecode, _site_packages

    env = Environment(name="bench-sklearn", requirements=["scikit-learn"])
    with tempfile.TemporaryDirectory() as d:
        python = resolve(env, Path(d)).python
        site_packages = _site_packages(python)
        _import_seconds(python)  # warm the page cache for both measurements
        compiled = _medians(python)
        for folder in list(site_packages.rglob("__pycache__")):
            shutil.rmtree(folder)
        uncompiled = _medians(python)
        with timer() as build:
            _compile_bytecode(python, site_packages, lambda line: None)
    return [
        row(f"`{IMPORT}` wall, compiled env (median of {REPEAT})", compiled[0], "no .pyc", uncompiled[0]),
        row(f"`{IMPORT}` CPU, compiled env (median of {REPEAT})", compiled[1], "no .pyc", uncompiled[1]),
        f"{'byte-compiling the env once, at build':<46} {build['s']:.1f} s",
    ]


if __name__ == "__main__":
    print("\n".join(main()))
