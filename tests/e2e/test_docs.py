"""The README's examples are tests: the SDK examples run as written, the YAML ones validate."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from tests.e2e.test_cli import ty

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


SDK_EXAMPLES = [b for b in blocks("python") if b.startswith("import trainyard as ty")]


def run_example(tmp_path: Path, monkeypatch, code: str) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    subprocess.run([sys.executable, "-m", "trainyard", "init"], cwd=tmp_path, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def readme_metrics() -> dict[str, str]:
    """The diabetes example's metrics as the SDK example's ``run.get_metrics()`` comment shows them."""
    return dict(re.findall(r'"(mse|r2)": ([0-9.]+)', SDK_EXAMPLES[0]))


def test_the_sdk_example_runs(tmp_path, monkeypatch):
    shown = readme_metrics()
    checks = (
        "\nassert run.get_status() == 'completed'\nmetrics = run.get_metrics()"
        f"\nassert round(metrics['mse'], 2) == {shown['mse']} and round(metrics['r2'], 3) == {shown['r2']}\n"
    )
    run_example(tmp_path, monkeypatch, SDK_EXAMPLES[0] + checks)
    assert (tmp_path / "model.pkl").exists()


def test_the_sweep_example_runs(tmp_path, monkeypatch):
    checks = "\nassert run.get_status() == 'completed'\nassert len(run.get_children()) == 8\nassert best\n"
    run_example(tmp_path, monkeypatch, SDK_EXAMPLES[1] + checks)


def test_the_automl_example_runs(tmp_path, monkeypatch):
    checks = (
        "\nassert run.get_status() == 'completed' and best_run.get_status() == 'completed'"
        "\nassert ty.Model(ws, 'breast-cancer').version == 1\n"
    )
    run_example(tmp_path, monkeypatch, SDK_EXAMPLES[2] + checks)


def test_the_yaml_examples_are_valid(tmp_path):
    from trainyard.environments import Environment
    from trainyard.jobs.spec import load_job
    from trainyard.serving.deployment_spec import load_deployment
    from trainyard.sweep.spec import load_sweep

    job_yaml, env_yaml, deployment_yaml = blocks("yaml")
    (tmp_path / "job.yml").write_text(job_yaml)
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    job = load_job(tmp_path / "job.yml")
    assert job.inputs["data"].path == str(tmp_path / "data.csv")
    assert job.argv() == ["python", "train.py", "--alpha", "0.5", "--data", str(tmp_path / "data.csv")]
    (tmp_path / "env.yml").write_text(env_yaml)
    assert Environment.from_file(tmp_path / "env.yml").env_vars == {"OMP_NUM_THREADS": "1"}
    (tmp_path / "score").mkdir()
    (tmp_path / "score" / "score.py").write_text("def run(raw_data):\n    return raw_data\n")
    (tmp_path / "blue.yml").write_text(deployment_yaml)
    deployment = load_deployment(tmp_path / "blue.yml")
    assert (deployment.environment, deployment.request_timeout) == ("sklearn:2", 30.0)
    assert (
        yaml.safe_load((ROOT / "examples" / "diabetes" / "job.yml").read_text())["experiment_name"]
        == "diabetes"
    )
    sweep = load_sweep(ROOT / "examples" / "diabetes" / "sweep.yml")
    assert sweep.objective.primary_metric == "r2" and sweep.sampling == "bayesian"


def test_the_demo_trains_deploys_scores_and_names_the_runs_studio_page(tmp_path):
    """``make demo``'s script on a copy of the examples; the numbers it prints are the README's."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    demo = subprocess.run(
        ["bash", "examples/diabetes/demo.sh"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    printed = re.search(r"mse=([0-9.]+) r2=([0-9.]+)", demo.stdout)
    assert printed, demo.stdout
    assert f"`{printed.group(0)}`" in README  # the make demo paragraph
    assert readme_metrics() == {"mse": printed.group(1), "r2": printed.group(2)}  # the SDK example
    predictions = json.loads(demo.stdout[demo.stdout.rindex("[") : demo.stdout.rindex("]") + 1])
    assert len(predictions) == 2  # a prediction per row of request.json
    run = json.loads(ty(tmp_path, "run", "list", "-o", "json").stdout)[0]["id"]
    assert demo.stdout.splitlines()[-1].startswith(
        f"see this run in the studio: trainyard studio --run {run[:12]}"
    )
    endpoints = json.loads(ty(tmp_path, "endpoint", "list", "-o", "json").stdout)
    assert endpoints == []  # deleted on the way out: nothing is left running


def test_the_demos_model_goes_through_the_registry_an_endpoint_batch_scoring_and_a_retrain(tmp_path):
    """The README's walk on the bundled example, each command as written (``RUN``: the job's id)."""
    walk = next(b for b in blocks("bash") if "-p outputs/model.pkl --alias production" in b)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    ty(tmp_path, "init", ".")
    shown: dict[str, str] = {}
    try:
        for line in (ln for ln in walk.splitlines() if ln.strip() and not ln.startswith("#")):
            program, *args = shlex.split(re.sub(r"\bRUN\b", shown.get("run", "RUN"), line))
            if program == "python":
                subprocess.run([sys.executable, *args], cwd=tmp_path, check=True, timeout=60)
                continue
            shown[" ".join(args[:2])] = ty(tmp_path, *args).stdout
            if args[0] == "job":
                shown["run"] = json.loads(ty(tmp_path, "run", "list", "-o", "json").stdout)[0]["id"]
        assert len(json.loads(shown["endpoint invoke"])) == 2  # a prediction per row of request.json
        scored = pd.read_csv(tmp_path / "scored.csv")
        assert len(scored) == 442 and {"target", "prediction"} <= set(scored.columns)
        assert "yes (forced)" in shown["retrain -m"] and "diabetes:2" in shown["retrain -m"]
        production = json.loads(ty(tmp_path, "model", "show", "diabetes@production", "-o", "json").stdout)
        assert production["version"] == 2 and production["lineage"]["params"]["data"].endswith("new.csv")
        traffic = json.loads(ty(tmp_path, "endpoint", "show", "diabetes", "-o", "json").stdout)["traffic"]
        assert traffic == {"blue": 100}  # rolled back from the retrained deployment
    finally:
        ty(tmp_path, "endpoint", "delete", "diabetes", check=False)
