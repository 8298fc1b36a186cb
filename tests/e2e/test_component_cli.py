"""The Studio workflow as docs/components.md shows it: its commands and its Python, run as written."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.test_cli import ty

DOC = (Path(__file__).resolve().parents[2] / "docs" / "components.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, n),
            "monthly": rng.normal(70, 20, n).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )
    df["churned"] = (df["monthly"] / 30 - df["tenure"] / 20 + rng.normal(size=n) > 0).astype(int)
    df.loc[::17, "monthly"] = np.nan
    df.to_csv(tmp_path / "churn.csv", index=False)
    return tmp_path


def test_the_documented_commands_run_the_studio_workflow(project: Path):
    commands = [shlex.split(line) for line in blocks("bash")[0].splitlines() if line.startswith("trainyard ")]
    assert [c[1] for c in commands][:1] == ["init"] and len(commands) == 9
    outputs = [ty(project, *command[1:]).stdout for command in commands]
    assert "rows = 600" in outputs[1] and "missing_values_before = 36" in outputs[2]
    assert "rows_results1 = 480" in outputs[3]
    assert "training_rows = 480" in outputs[5] and "rows_scored = 120" in outputs[6]
    auc = float(re.search(r"auc = ([0-9.]+)", outputs[7]).group(1))
    assert 0.7 < auc <= 1.0
    runs = json.loads(ty(project, "run", "list", "-o", "json").stdout)
    assert len(runs) == 8 and {r["status"] for r in runs} == {"completed"}
    evaluation = next(r for r in runs if r["name"] == "evaluate-model")
    files = json.loads(ty(project, "run", "show", evaluation["id"], "-o", "json").stdout)["artifacts"]
    assert {"images/roc_curve.png", "outputs/evaluation_results/report.json"} <= set(files)
    model = json.loads(ty(project, "model", "show", "churn@staging", "-o", "json").stdout)
    assert model["version"] == 1 and model["lineage"]["run_id"] == runs[0]["id"]
    # the same step again has the same reuse key, found from the run's JSON output
    first = json.loads(
        ty(project, "component", "run", "split-data", "-i", "dataset=churn.csv", "-o", "json").stdout
    )
    again = json.loads(
        ty(project, "component", "run", "split-data", "-i", "dataset=churn.csv", "-o", "json").stdout
    )
    assert first["reuse_key"] == again["reuse_key"] and first["run_id"] != again["run_id"]


def test_the_documented_python_runs(project: Path):
    code = blocks("python")[0] + "\nassert 0.7 < report.metrics['auc'] <= 1\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_list_show_and_bad_input_on_the_command_line(project: Path):
    ty(project, "init")
    listed = json.loads(ty(project, "component", "list", "--category", "data", "-o", "json").stdout)
    assert {c["name"] for c in listed} >= {"import-data", "split-data", "smote", "clean-missing-data"}
    assert all(c["category"] == "Data" for c in listed)
    assert "Train Model" in ty(project, "component", "list").stdout
    shown = json.loads(ty(project, "component", "show", "split-data", "-o", "json").stdout)
    assert shown["params"]["properties"]["fraction"]["exclusiveMaximum"] == 1
    assert "stratify_column" in ty(project, "component", "show", "split-data").stdout
    (project / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    (project / "latin.csv").write_bytes(b"name\nZ\xfcrich\n")
    bad = {
        ("split-data", "-i", "dataset=churn.csv", "-p", "fraction=1.5"): (
            "fraction must be between 0 and 1 (exclusive), got 1.5"
        ),
        ("import-data", "-p", "path=ragged.csv"): "ragged.csv: row on line 3 has 3 fields, the header has 2",
        ("import-data", "-p", "path=latin.csv"): "latin.csv: line 2 is not valid utf-8",
        ("split-dat",): "no component named 'split-dat'; did you mean split-data?",
        (
            "split-data",
            "-i",
            "dataset=churn.csv",
            "-p",
            "fractio=0.5",
        ): "split-data has no parameter 'fractio'",
        ("split-data", "-i", "dataset=last:import-data"): "no completed run of the component 'import-data'",
        ("group-data-into-bins", "-i", "dataset=churn.csv", "-p", "columns=tenure", "-p", "bins=0"): (
            "bins must be between 2 and 10000, got 0"
        ),
        ("split-data", "-p", "seed=x"): "seed must be a whole number, got 'x'",
    }
    for args, message in bad.items():
        result = ty(project, "component", "run", *args, check=False)
        assert result.returncode == 1, result.stdout
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    failed = [
        r for r in json.loads(ty(project, "run", "list", "-o", "json").stdout) if r["status"] == "failed"
    ]
    assert len(failed) == 2  # the two bad files reached a run, which failed; the rest were refused before one
    for run in failed:
        files = json.loads(ty(project, "run", "show", run["id"], "-o", "json").stdout)["artifacts"]
        assert not [f for f in files if f.startswith("outputs/")]


def test_the_readme_shows_the_documented_workflow():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert blocks("bash")[0] in readme and blocks("python")[0] in readme
