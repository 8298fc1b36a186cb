"""``trainyard job submit -f parallel.yml`` as a user types it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_cli import project, ty  # noqa: F401 - the fixture and the runner

SPEC = """
type: parallel
inputs:
  images: {type: uri_folder, path: ./src}
outputs:
  scores: {type: uri_folder}
input_data: ${{inputs.images}}
mini_batch_size: 2
task:
  code: ./src
  entry_script: score.py
  append_row_to: ${{outputs.scores}}
"""


def test_a_parallel_job_runs_from_the_cli(project: Path):  # noqa: F811
    ty(project, "init")
    (project / "src" / "score.py").write_text(
        "import os\ndef run(b):\n    return [os.path.basename(p) for p in b]\n"
    )
    (project / "parallel.yml").write_text(textwrap.dedent(SPEC))
    out = ty(project, "job", "submit", "-f", "parallel.yml", "--stream").stdout
    assert "[parallel] 100%" in out and "run completed" in out


@pytest.mark.parametrize(
    "change, message",
    [
        (("mini_batch_size: 2", "mini_batch_size: lots"), "mini_batch_size: give a count of files or rows"),
        (
            ("input_data: ${{inputs.images}}", "input_data: ${{inputs.photos}}"),
            "input_data names input 'photos'",
        ),
        (("entry_script: score.py", "entry_script: score"), "task.entry_script: give the Python file"),
        (("mini_batch_size: 2", "mini_batch_size: 2\npartition_keys: [a]"), "not both"),
        (("append_row_to: ${{outputs.scores}}", "append_row_to: ${{outputs.nope}}"), "names output 'nope'"),
        (("mini_batch_size: 2", "mini_batch_size: 2\nmax_concurency_per_instance: 2"), "Extra inputs"),
    ],
)
def test_a_bad_parallel_spec_is_one_line(project: Path, change, message):  # noqa: F811
    ty(project, "init")
    (project / "parallel.yml").write_text(textwrap.dedent(SPEC).replace(*change))
    result = ty(project, "job", "submit", "-f", "parallel.yml", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
