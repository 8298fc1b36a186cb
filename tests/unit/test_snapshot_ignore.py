"""Which files a code snapshot keeps: ``.amlignore`` (before ``.gitignore``, as in Azure ML) and
``.trainyardignore`` in every folder, with git's rules for nested files."""

from __future__ import annotations

from pathlib import Path

from trainyard.jobs.snapshot import select_files


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


def kept(root: Path) -> set[str]:
    return set(select_files(root))


def test_amlignore_is_honoured_and_replaces_gitignore_in_its_folder(tmp_path):
    root = tree(
        tmp_path,
        {
            ".amlignore": "*.csv\n",
            ".gitignore": "*.txt\n",  # unused: the folder has an .amlignore
            ".trainyardignore": "secret.py\n",
            "train.py": "",
            "data.csv": "",
            "notes.txt": "",
            "secret.py": "",
        },
    )
    assert kept(root) == {".amlignore", ".gitignore", ".trainyardignore", "train.py", "notes.txt"}


def test_nested_ignore_files_apply_relative_to_their_folder(tmp_path):
    root = tree(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            "run.log": "",
            "build/x.py": "",
            "sub/.gitignore": "/local.py\n!keep.log\ncache/\n",
            "sub/local.py": "",  # anchored to sub/
            "sub/deeper/local.py": "",  # not anchored there
            "sub/keep.log": "",  # re-included by the deeper file
            "sub/other.log": "",
            "sub/cache/c.bin": "",
            "sub/cache.py": "",
            "other/local.py": "",  # sub's patterns stop at sub
            "other/cache/c.bin": "",
            "lib/.amlignore": "*.tmp\n",
            "lib/.gitignore": "*.py\n",  # unused beside lib/.amlignore
            "lib/a.tmp": "",
            "lib/a.py": "",
        },
    )
    assert kept(root) == {
        ".gitignore",
        "sub/.gitignore",
        "sub/deeper/local.py",
        "sub/keep.log",
        "sub/cache.py",
        "other/local.py",
        "other/cache/c.bin",
        "lib/.amlignore",
        "lib/.gitignore",
        "lib/a.py",
    }


def test_folder_patterns_and_ignored_folders_are_final(tmp_path):
    root = tree(
        tmp_path,
        {
            ".gitignore": "logs/\nvendor/\n",
            "logs/a.txt": "",
            "src/logs": "a file, not a folder: kept",
            "vendor/.gitignore": "!*\n",  # git cannot re-include below an ignored folder
            "vendor/lib.py": "",
            ".git/config": "",
            "pkg/__pycache__/m.pyc": "",
            "pkg/m.py": "",
        },
    )
    assert kept(root) == {".gitignore", "src/logs", "pkg/m.py"}
