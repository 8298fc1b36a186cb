"""Building environments into virtual environments with uv, cached by build hash.

A cache hit is one ``stat`` of a marker file written last by a successful build, so resolving
a built environment costs well under a millisecond and starts no process. Builds of the same
spec by several processes at once are serialised by a file lock: one builds, the others find
the marker. trainyard itself is copied into every environment (and its dependencies
installed), because job scripts ``import trainyard`` there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import requires, version
from pathlib import Path

from filelock import FileLock, Timeout
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from trainyard.environments.spec import Environment
from trainyard.errors import EnvironmentBuildError

MARKER = ".trainyard-complete"
TAIL_LINES = 20
NAME_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ResolvedEnvironment:
    """What a worker needs to start a job: the interpreter and the variables to set."""

    python: str
    env_vars: dict[str, str]
    build_hash: str | None
    cache_hit: bool
    seconds: float


def default_cache_dir() -> Path:
    """Built environments live outside workspaces, so every workspace on a machine shares them."""
    base = os.environ.get("TRAINYARD_CACHE_DIR") or Path.home() / ".cache" / "trainyard"
    return Path(base) / "envs"


def is_built(env: Environment, cache_dir: Path | None = None) -> bool:
    """Whether ``resolve`` would find ``env`` ready (the default one always is): no build to wait for."""
    return env.is_default or (cache_dir or default_cache_dir()).joinpath(env.build_hash(), MARKER).exists()


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
    lock = FileLock(str(cache / f"{digest}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"environment {env.name}: waiting for another process building {digest[:12]}")
        lock.acquire()
    try:
        hit = (target / MARKER).exists()  # the process we waited for may have built it
        if not hit:
            log(f"environment {env.name}: building {digest[:12]} with uv in {target}")
            try:
                _build(env, target, log)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            log(f"environment {env.name}: built {digest[:12]} in {time.perf_counter() - start:.2f}s")
        else:
            log(f"environment {env.name}: cache hit {digest[:12]} (built by another process)")
    finally:
        lock.release()
    return ResolvedEnvironment(python, dict(env.env_vars), digest, hit, time.perf_counter() - start)


def _trainyard_requirements() -> list[str]:
    """trainyard's runtime dependencies (no extras), so ``import trainyard`` works in the env."""
    found = []
    for text in requires("trainyard") or []:
        marker = Requirement(text).marker
        if marker is None or "extra" not in str(marker):
            found.append(text)
    return found


def _uv() -> str:
    from uv import find_uv_bin

    try:
        return find_uv_bin()
    except FileNotFoundError:
        raise EnvironmentBuildError(
            "the uv binary that trainyard builds environments with is missing; "
            "reinstall it with `pip install --force-reinstall uv`"
        ) from None


def _run(argv: list[str], log: Callable[[str], None]) -> tuple[int, list[str]]:
    """Run a build step, streaming its output to ``log``; the exit code and every line."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip()
        lines.append(line)
        log(f"  {line}")
    return proc.wait(), lines


def _build(env: Environment, target: Path, log: Callable[[str], None]) -> None:
    shutil.rmtree(target, ignore_errors=True)  # a build killed half-way left this behind
    uv = _uv()
    wanted_python = env.python or sys.executable
    code, lines = _run([uv, "venv", "--quiet", "--python", wanted_python, str(target)], log)
    if code != 0:
        raise EnvironmentBuildError(
            f"environment {env.name!r}: could not create a virtual environment with Python "
            f"{wanted_python} (uv exit code {code}):\n{_tail(lines)}\n"
            "Use a Python version installed on this machine (or `uv python install "
            f"{env.python or '3.X'}`), or leave python unset to use the submitting interpreter."
        )
    python = str(target / "bin" / "python")
    code, lines = _run(
        [uv, "pip", "install", "--python", python, *env.requirements, *_trainyard_requirements()], log
    )
    if code != 0:
        raise EnvironmentBuildError(
            f"environment {env.name!r}: installing {_culprits(env.requirements, lines)} failed "
            f"(uv exit code {code}):\n{_tail(lines)}\n"
            "Check the package names and versions (and that the package index is reachable), "
            "fix the environment's requirements and submit again."
        )
    site_packages = _site_packages(python)
    _copy_trainyard(site_packages)
    _compile_bytecode(python, site_packages, log)
    (target / MARKER).write_text(json.dumps(env.build_inputs(), indent=2))


def _compile_bytecode(python: str, site_packages: Path, log: Callable[[str], None]) -> None:
    """Write the modules' ``.pyc`` files once, with the environment's own interpreter.

    Jobs only read bytecode: with ``PYTHONDONTWRITEBYTECODE`` set (or a cache they cannot write)
    an import never writes it, and without this every scikit-learn job compiled scikit-learn and
    its dependencies again (about 5 s). Packages' own test suites (a third of the files) are left
    out: jobs do not import them. Timestamp pycs stay valid since nothing changes the files after
    the build (``SOURCE_DATE_EPOCH`` would otherwise make them hash-checked, a read of each source
    per import). A file that does not compile (a template, a Python 2 example) is only logged.
    """
    skip_tests = re.escape(str(site_packages)) + r"/(.*/)?tests?/"  # its test/ and tests/ folders
    flags = ["-q", "-j", "0", "-x", skip_tests, "--invalidation-mode", "timestamp"]
    code, _ = _run([python, "-m", "compileall", *flags, str(site_packages)], log)
    if code != 0:
        log(f"  byte-compiling {site_packages}: some files did not compile (above); the rest did")


def _tail(lines: list[str]) -> str:
    return "\n".join(f"  {line}" for line in lines[-TAIL_LINES:])


def _culprits(requirements: list[str], lines: list[str]) -> str:
    """The requirements the resolver names in its output: usually the one that cannot be met."""
    said = {canonicalize_name(word) for word in NAME_LIKE.findall("\n".join(lines[-TAIL_LINES:]))}
    candidates = [*requirements, *_trainyard_requirements()]
    named = [r for r in candidates if canonicalize_name(Requirement(r).name) in said]
    return ", ".join(repr(r) for r in named or requirements) or "trainyard's own dependencies"


def _site_packages(python: str) -> Path:
    return Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )


def _copy_trainyard(purelib: Path) -> None:
    """Make this trainyard importable in the env, with metadata so ``version("trainyard")`` works."""
    package = Path(__file__).resolve().parents[1]  # the trainyard package this module is part of
    shutil.copytree(package, purelib / "trainyard", ignore=shutil.ignore_patterns("__pycache__"))
    ours = version("trainyard")
    dist_info = purelib / f"trainyard-{ours}.dist-info"
    dist_info.mkdir()
    requires_dist = "".join(f"Requires-Dist: {r}\n" for r in _trainyard_requirements())
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: trainyard\nVersion: {ours}\n{requires_dist}"
    )
    (dist_info / "INSTALLER").write_text("trainyard\n")
