"""The studio's build committed inside the package is the build of the committed sources:
``studio/scripts/stamp.mjs`` records a hash of the sources in ``build.json`` at each build, and
this test recomputes it. After editing ``studio/``, run ``make studio`` and commit the build."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from trainyard.server.studio import STATIC

SOURCES = Path(__file__).resolve().parents[2] / "studio"
TOP = (
    "index.html",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "vite.config.ts",
    "scripts/stamp.mjs",
)


def source_hash(root: Path) -> tuple[str, int]:
    """The hash ``stamp.mjs`` writes: each file's path and sha256, in path order (tests left out)."""
    below = (p.relative_to(root).as_posix() for p in (root / "src").rglob("*") if p.is_file())
    files = sorted(p for p in (*TOP, *below) if not re.search(r"\.test\.tsx?$", p))
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path}\0{hashlib.sha256((root / path).read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest(), len(files)


def test_the_committed_build_is_of_the_committed_sources() -> None:
    stamp = json.loads((STATIC / "build.json").read_text())
    sources, count = source_hash(SOURCES)
    assert (stamp["sources"], stamp["files"]) == (sources, count), (
        "the studio's build in src/trainyard/server/studio_static is older than studio/: run `make studio` "
        "and commit what it builds"
    )


def test_the_page_names_only_files_that_are_there() -> None:
    page = (STATIC / "index.html").read_text()
    named = re.findall(r'(?:src|href)="\./([^"]+)"', page)
    assert named and all((STATIC / name).is_file() for name in named)
