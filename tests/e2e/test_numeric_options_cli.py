"""Numeric options typed wrong (a timeout of -5, 0, nan or inf; a budget of true; a port of -1):
one line saying what to fix, no traceback, and nothing queued."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_cli import ty

JOB = "code: ./src\ncommand: python train.py\n"
SWEEP = """
code: ./src
command: python train.py
search_space:
  alpha: {type: uniform, min_value: 0, max_value: 1}
objective: {primary_metric: loss, goal: minimize}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("numbers")
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text("print('trained')\n")
    (root / "data.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    ty(root, "init")
    return root


def queued(project: Path) -> int:
    with sqlite3.connect(project / ".trainyard" / "trainyard.db") as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


def sweep(**limits: str) -> str:
    return textwrap.dedent(SWEEP) + "limits: {" + ", ".join(f"{k}: {v}" for k, v in limits.items()) + "}\n"


def policy(body: str) -> str:
    return textwrap.dedent(SWEEP) + f"early_termination: {body}\n"


SCRIPT = ["job", "submit", "--script", "train.py", "--source", "src"]
AUTOML = ["automl", "submit", "--data", "data.csv", "--label", "y"]


@pytest.mark.parametrize(
    ("spec", "args", "message"),
    [
        (None, [*SCRIPT, "--timeout", "-5"], "timeout: Input should be greater than 0"),
        (None, [*SCRIPT, "--timeout", "0"], "timeout: Input should be greater than 0"),
        (None, [*SCRIPT, "--timeout", "nan"], "(got nan)"),
        (None, [*SCRIPT, "--timeout", "inf"], "timeout: Input should be a finite number"),
        (JOB + "timeout: .nan\n", ["job", "submit", "-f", "spec.yml"], "(got nan)"),
        (JOB + "timeout: .inf\n", ["job", "submit", "-f", "spec.yml"], "finite number"),
        (JOB + "timeout: yes\n", ["job", "submit", "-f", "spec.yml"], "give a number, not true"),
        (
            JOB + "max_retries: -1\n",
            ["job", "submit", "-f", "spec.yml"],
            "max_retries: Input should be greater",
        ),
        (JOB + "max_retries: true\n", ["job", "submit", "-f", "spec.yml"], "max_retries: give a number"),
        (
            JOB + "max_retries: 1.5\n",
            ["job", "submit", "-f", "spec.yml"],
            "max_retries: Input should be a valid",
        ),
        (sweep(max_total_trials="0"), ["sweep", "submit", "-f", "spec.yml"], "max_total_trials"),
        (sweep(max_total_trials="true"), ["sweep", "submit", "-f", "spec.yml"], "give a number, not true"),
        (sweep(max_concurrent_trials="-1"), ["sweep", "submit", "-f", "spec.yml"], "max_concurrent_trials"),
        (sweep(timeout=".nan"), ["sweep", "submit", "-f", "spec.yml"], "limits.timeout"),
        (sweep(timeout="-5"), ["sweep", "submit", "-f", "spec.yml"], "limits.timeout"),
        (sweep(timeout=".inf"), ["sweep", "submit", "-f", "spec.yml"], "finite number"),
        (
            policy("{type: bandit, slack_factor: .nan}"),
            ["sweep", "submit", "-f", "spec.yml"],
            "finite number",
        ),
        (
            policy("{type: truncation_selection, truncation_percentage: .inf}"),
            ["sweep", "submit", "-f", "spec.yml"],
            "finite number",
        ),
        (
            policy("{type: median_stopping, evaluation_interval: true}"),
            ["sweep", "submit", "-f", "spec.yml"],
            "evaluation_interval must be an integer",
        ),
        (None, [*AUTOML, "--timeout", "0"], "experiment_timeout_minutes"),
        (None, [*AUTOML, "--timeout", "nan"], "--timeout 'nan'"),
        (None, [*AUTOML, "--concurrency", "0"], "max_concurrent_iterations"),
        (None, [*AUTOML, "--cv", "1"], "n_cross_validations"),
    ],
)
def test_a_bad_number_is_one_line_and_queues_nothing(project: Path, spec, args, message):
    if spec is not None:
        (project / "spec.yml").write_text(spec)
    before = queued(project)
    result = ty(project, *args, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert queued(project) == before


@pytest.mark.parametrize(
    "args", [["model", "serve", "m", "--port", "-1"], ["endpoint", "create", "e", "--port", "0"]]
)
def test_a_port_out_of_range_is_a_usage_error(project: Path, args):
    result = ty(project, *args, check=False)
    assert result.returncode == 2 and "--port" in result.stderr and "Traceback" not in result.stderr
