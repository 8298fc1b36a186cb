"""Building environments into virtual environments with uv, cached by build hash.

A cache hit is one ``stat`` of a marker file written last by a successful build, so resolving
a built environment costs well under a millisecond. Builds of the same spec by several
processes at once are serialised by a file lock: one builds, the others find the marker.
trainyard itself is copied into every environment (and its dependencies installed), because
job scripts ``import trainyard`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import requires
from pathlib import Path

from filelock import FileLock

from trainyard.environments.spec import Environment
from trainyard.errors import EnvironmentBuildError

MARKER = ".trainyard-complete"
TAIL = 20


@dataclass(frozen=True)
class ResolvedEnvironment:
    python: str
    env_vars: dict[str, str]
    build_hash: str | None
    cache_hit: bool
    seconds: float


def default_cache_dir() -> Path:
    base = os.environ.get("TRAINYARD_CACHE_DIR") or Path.home() / ".cache" / "trainyard"
    return Path(base) / "envs"


def _trainyard_requirements() -> list[str]:
    """trainyard's runtime dependencies (no extras), so ``import trainyard`` works in the env."""
    return [r for r in requires("trainyard") or [] if "extra ==" not in r]


def _uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def _run(argv: list[str], log: Callable[[str], None], what: str) -> None:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        lines.append(line)
        log(f"  {line}")
    if proc.wait() != 0:
        tail = "\n".join(lines[-TAIL:])
        raise EnvironmentBuildError(f"{what} failed (exit code {proc.returncode}):\n{tail}")


def resolve(
    env: Environment, cache_dir: Path | None = None, log: Callable[[str], None] = lambda line: None
) -> ResolvedEnvironment:
    """The interpreter to run a job with: this one, a cached build, or a fresh build."""
    start = time.perf_counter()
    if env.is_default:
        return ResolvedEnvironment(sys.executable, dict(env.env_vars), None, True, 0.0)
    digest = env.build_hash()
    cache = cache_dir or default_cache_dir()
    target = cache / digest
    python = str(target / "bin" / "python")
    if (target / MARKER).exists():
        seconds = time.perf_counter() - start
        log(f"environment {env.name}: cache hit {digest[:12]} ({seconds:.2f}s)")
        return ResolvedEnvironment(python, dict(env.env_vars), digest, True, seconds)
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / f"{digest}.lock")):
        hit = (target / MARKER).exists()
        if not hit:
            log(f"environment {env.name}: building {digest[:12]} with uv")
            try:
                _build(env, target, log)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            log(f"environment {env.name}: built {digest[:12]} in {time.perf_counter() - start:.2f}s")
    return ResolvedEnvironment(python, dict(env.env_vars), digest, hit, time.perf_counter() - start)


def _build(env: Environment, target: Path, log: Callable[[str], None]) -> None:
    shutil.rmtree(target, ignore_errors=True)
    uv = _uv()
    _run(
        [uv, "venv", "--quiet", "--python", env.python or sys.executable, str(target)],
        log,
        f"creating a Python {env.python or 'venv'} environment",
    )
    python = str(target / "bin" / "python")
    wanted = [*env.requirements, *_trainyard_requirements()]
    _run(
        [uv, "pip", "install", "--python", python, *wanted],
        log,
        f"installing {', '.join(env.requirements) or 'trainyard'}",
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    package = Path(__file__).resolve().parent.parent
    shutil.copytree(package, Path(purelib) / "trainyard", ignore=shutil.ignore_patterns("__pycache__"))
    (target / MARKER).write_text(env.model_dump_json())
