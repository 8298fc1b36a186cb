"""The code a run ran comes back: ``Run.restore_snapshot`` (a ZIP, as Azure ML's) and ``trainyard
run download RUN --snapshot``, with the ignore files of every folder applied at submit time."""

from __future__ import annotations

import zipfile

import pytest
from typer.testing import CliRunner

import trainyard as ty
from tests.integration.test_jobs import submit
from trainyard.cli.main import app
from trainyard.errors import InvalidInputError, NotFoundError

SOURCE = {
    "train.py": "print('training')\n",
    "util/helpers.py": "X = 1\n",
    ".amlignore": "*.csv\n",
    ".gitignore": "*.py\n",  # unused beside the .amlignore, so the scripts are kept
    "data.csv": "a,b\n",
    "util/.gitignore": "scratch/\n",
    "util/scratch/tmp.bin": "x",
}
KEPT = {"train.py", "util/helpers.py", ".amlignore", ".gitignore", "util/.gitignore"}


@pytest.fixture
def finished_run(ws, script_dir):
    run = submit(ws, script_dir(SOURCE))
    assert run.wait_for_completion()["status"] == "completed"
    return run


def test_restore_snapshot_gives_the_code_as_a_zip(finished_run, tmp_path):
    path = finished_run.restore_snapshot(path=tmp_path / "zips")
    assert path == str(tmp_path / "zips" / f"{finished_run.info.snapshot_id}.zip")
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == KEPT
        assert archive.read("util/helpers.py") == b"X = 1\n"
    named = finished_run.restore_snapshot(finished_run.info.snapshot_id, tmp_path / "code.zip")
    assert zipfile.ZipFile(named).read("train.py") == SOURCE["train.py"].encode()
    with pytest.raises(InvalidInputError, match="not 'abc'"):
        finished_run.restore_snapshot("abc")


def test_run_download_snapshot_restores_the_files_and_never_overwrites(finished_run, tmp_path):
    out = tmp_path / "code"
    runner = CliRunner()
    result = runner.invoke(app, ["run", "download", finished_run.id[:12], "--snapshot", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == KEPT
    assert (out / "train.py").read_text() == SOURCE["train.py"]
    again = runner.invoke(app, ["run", "download", finished_run.id, "--snapshot", "-o", str(out)])
    assert again.exit_code == 0, again.output  # the same files: nothing to refuse
    (out / "train.py").write_text("edited since")
    refused = runner.invoke(app, ["run", "download", finished_run.id, "--snapshot", "-o", str(out)])
    assert isinstance(refused.exception, InvalidInputError) and "train.py" in str(refused.exception)
    assert (out / "train.py").read_text() == "edited since"


def test_a_run_without_a_snapshot_says_so(ws, tmp_path):
    run = ty.Experiment(ws, "notebook").start_logging()
    with pytest.raises(NotFoundError, match="no code snapshot"):
        run.restore_snapshot(path=tmp_path)
    run.complete()
