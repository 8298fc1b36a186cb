"""Which files of a source folder a snapshot keeps: git's ignore rules, with Azure ML's files.

Every folder may hold ignore files; their patterns are relative to that folder and follow
``.gitignore`` syntax (pathspec's ``GitIgnoreSpec``: ``!`` re-includes, a trailing ``/`` matches
folders only, a leading or inner ``/`` anchors the pattern to the folder). As in git, the
deepest file with a pattern matching a path decides, the last matching pattern within it wins,
and nothing below an ignored folder comes back. A folder's patterns are its ``.amlignore`` when
it has one, else its ``.gitignore`` (Azure ML: "if both files exist, the .amlignore file is
used"), followed by its ``.trainyardignore``. ``ALWAYS_IGNORED`` is never taken.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pathspec

AZURE_IGNORE = ".amlignore"
GIT_IGNORE = ".gitignore"
OWN_IGNORE = ".trainyardignore"
ALWAYS_IGNORED = pathspec.GitIgnoreSpec.from_lines([".git/", ".trainyard/", "__pycache__/", ".venv/"])


@dataclass(frozen=True)
class _Rules:
    """The patterns of one folder's ignore files; ``base`` is the folder, relative, ending in ``/``."""

    base: str
    spec: pathspec.GitIgnoreSpec


def _folder_rules(folder: Path, base: str) -> _Rules | None:
    names = [AZURE_IGNORE if (folder / AZURE_IGNORE).is_file() else GIT_IGNORE, OWN_IGNORE]
    lines = [line for name in names if (folder / name).is_file() for line in _read_lines(folder / name)]
    return _Rules(base, pathspec.GitIgnoreSpec.from_lines(lines)) if lines else None


def _read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()


def _ignored(rel: str, rules: list[_Rules]) -> bool:
    """Whether ``rel`` (a folder's ends in ``/``) is ignored by the innermost rules that match it."""
    if ALWAYS_IGNORED.match_file(rel):
        return True
    for level in reversed(rules):
        verdict = level.spec.check_file(rel[len(level.base) :]).include
        if verdict is not None:
            return verdict
    return False


def select_files(source: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file the ignore rules keep (broken links left out)."""
    chosen: dict[str, Path] = {}
    levels: dict[str, list[_Rules]] = {}  # each folder's rules: its parents' and its own
    for folder, dirs, files in os.walk(source):
        rel_dir = Path(folder).relative_to(source).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        own = _folder_rules(Path(folder), prefix)
        rules = levels.pop(prefix, []) + ([own] if own else [])
        dirs[:] = sorted(d for d in dirs if not _ignored(prefix + d + "/", rules))
        for d in dirs:
            levels[prefix + d + "/"] = rules
        for name in sorted(files):
            rel = prefix + name
            path = Path(folder) / name
            if _ignored(rel, rules) or path.is_symlink() and not path.exists():
                continue
            chosen[rel] = path
    return chosen
