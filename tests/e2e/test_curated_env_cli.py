"""Curated environments from the CLI: list, pre-build, and jobs naming one build it once."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_cli import ty


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curated")
    (root / "src").mkdir()
    (root / "src" / "fit.py").write_text(
        textwrap.dedent("""
        import sklearn
        from sklearn.linear_model import LogisticRegression
        LogisticRegression().fit([[0.0], [1.0]], [0, 1])
        print("sklearn", sklearn.__version__)
    """)
    )
    for name, env in (("job1.yml", "azureml:AzureML-sklearn-1.5@latest"), ("job2.yml", "curated/sklearn-1")):
        (root / name).write_text(
            "experiment_name: curated\ncode: ./src\ncommand: python fit.py\n"
            f"environment: {env}\ncompute: local\n"
        )
    ty(root, "init")
    return root


def test_list_curated_names_aliases_and_built_state(project: Path):
    rows = {r["name"]: r for r in json.loads(ty(project, "env", "list", "--curated", "-o", "json").stdout)}
    assert {"curated/sklearn-1", "curated/lightgbm-xgboost-1", "curated/pytorch-2-cpu"} <= set(rows)
    assert "AzureML-sklearn-1.5" in rows["curated/sklearn-1"]["aliases"]
    assert not rows["curated/sklearn-1"]["built"]  # a fresh cache
    assert "AzureML-lightgbm-3.3" in ty(project, "env", "list", "--curated").stdout


def test_first_job_builds_the_curated_env_and_the_second_reuses_it(project: Path):
    first = ty(project, "job", "submit", "-f", "job1.yml", "--stream").stdout
    assert "sklearn 1.9.1" in first and "environment curated/sklearn-1: building" in first
    second = ty(project, "job", "submit", "-f", "job2.yml", "--stream").stdout
    assert "sklearn 1.9.1" in second and "cache hit" in second and "building" not in second
    built = ty(project, "env", "build", "--curated", "AzureML-sklearn-1.5").stdout
    assert "curated/sklearn-1 cache hit" in built
    rows = json.loads(ty(project, "env", "list", "--curated", "-o", "json").stdout)
    assert next(r for r in rows if r["name"] == "curated/sklearn-1")["built"]
    registered = json.loads(ty(project, "env", "list", "-o", "json").stdout)
    assert [(r["name"], r["version"]) for r in registered] == [("curated/sklearn-1", 1)]  # 2 jobs, 1 spec


def test_unknown_curated_name_is_one_line_with_the_close_names(project: Path):
    for args in (("env", "build", "--curated", "curated/sklern-1"),):
        result = ty(project, *args, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        message = (result.stdout + result.stderr).strip()
        assert len(message.splitlines()) == 1
        assert "curated/sklearn-1" in message and "env list --curated" in message
    (project / "bad.yml").write_text("code: ./src\ncommand: python fit.py\nenvironment: AzureML-sklern-1.5\n")
    result = ty(project, "job", "submit", "-f", "bad.yml", check=False)
    assert result.returncode != 0 and "AzureML-sklearn-1.5" in result.stdout + result.stderr
    assert json.loads(ty(project, "run", "list", "-o", "json").stdout).__len__() == 2  # nothing queued
