"""The ``trainyard`` command as a user types it: real processes in a fresh folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(
        textwrap.dedent("""
        import argparse, os
        from trainyard import Run
        p = argparse.ArgumentParser()
        p.add_argument("--alpha", type=float)
        p.add_argument("--name")
        args = p.parse_args()
        run = Run.get_context()
        for i in range(3):
            run.log("loss", args.alpha / (i + 1))
        print("name is", repr(args.name))
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.txt", "w").write("m")
    """)
    )
    (tmp_path / "job.yml").write_text(
        textwrap.dedent("""
        experiment_name: cli
        code: ./src
        command: python train.py --alpha ${{inputs.alpha}} --name ${{inputs.name}}
        inputs:
          alpha: 0.5
          name: "x; rm -rf / && echo $HOME"
        compute: local
    """)
    )
    return tmp_path


def ty(cwd: Path, *args: str, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    """``trainyard ARGS`` in ``cwd`` as a user would type it, with no TRAINYARD_* but ``extra_env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    env.update(
        TRAINYARD_CACHE_DIR=str(cwd / ".cache"), TRAINYARD_CONFIG_DIR=str(cwd / "config"), COLUMNS="200"
    )
    env.update(extra_env)
    result = subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_init_submit_stream_list_show_metrics_download(project: Path):
    ty(project, "init")
    out = ty(project, "job", "submit", "-f", "job.yml", "--stream", "--set", "inputs.alpha=2").stdout
    assert "name is 'x; rm -rf / && echo $HOME'" in out  # one argument, never a shell
    assert "completed" in out and "outputs/model.txt" in out
    runs = json.loads(ty(project, "run", "list", "-o", "json").stdout)
    assert (
        len(runs) == 1
        and runs[0]["status"] == "completed"
        and runs[0]["metrics"]["loss"] == pytest.approx(2 / 3)
    )
    run_id = runs[0]["id"]
    shown = json.loads(ty(project, "run", "show", run_id[:12], "-o", "json").stdout)
    assert shown["params"] == {"alpha": "2", "name": "x; rm -rf / && echo $HOME"}
    history = json.loads(ty(project, "run", "metrics", run_id, "-o", "json").stdout)
    assert [p["value"] for p in history["loss"]] == pytest.approx([2, 1, 2 / 3])
    assert json.loads(ty(project, "run", "metrics", run_id, "--attempt", "1", "-o", "json").stdout) == history
    no_retry = ty(project, "run", "metrics", run_id, "--attempt", "2", check=False)
    assert no_retry.returncode != 0 and "attempts 1 to 1" in no_retry.stdout + no_retry.stderr
    assert "Traceback" not in no_retry.stdout + no_retry.stderr
    ty(project, "run", "metrics", run_id, "--plot", "curves.png")
    assert (project / "curves.png").read_bytes()[:4] == b"\x89PNG"
    ty(project, "run", "download", run_id, "--path", "outputs", "-d", "dl")
    assert (project / "dl" / "outputs" / "model.txt").read_text() == "m"
    assert "name is" in ty(project, "run", "logs", run_id).stdout
    experiments = json.loads(ty(project, "experiment", "list", "-o", "json").stdout)
    assert [(e["name"], e["runs"]) for e in experiments] == [("cli", 1)]


def test_script_submission_with_arguments_after_double_dash(project: Path):
    ty(project, "init")
    out = ty(
        project,
        "job",
        "submit",
        "--script",
        "train.py",
        "--source",
        "src",
        "--stream",
        "--",
        "--alpha",
        "1",
        "--name",
        "n",
    ).stdout
    assert "name is 'n'" in out


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"bad.yml": "command: [unclosed"}, ["-f", "bad.yml"], "not valid YAML"),
        (
            {"bad.yml": "code: ./src\ncommand: python train.py --a ${{inputs.nope}}"},
            ["-f", "bad.yml"],
            "no input 'nope'",
        ),
        (
            {"bad.yml": "code: ./src\ncommand: python train.py\ncompute: moon"},
            ["-f", "bad.yml"],
            "unknown compute",
        ),
        ({"bad.yml": "code: ./src\ncommand: python train.py\nflavour: x"}, ["-f", "bad.yml"], "flavour"),
        ({}, ["--script", "nope.py", "--source", "src"], "not found"),
        (
            {"bad.yml": "code: ./src\ncommand: python train.py\ninputs: {d: {type: uri_file, path: x.csv}}"},
            ["-f", "bad.yml"],
            "does not exist",
        ),
        ({}, ["--script", "train.py", "--source", "missing"], "does not exist"),
    ],
)
def test_user_mistakes_give_one_line_and_queue_nothing(project: Path, files, args, message):
    ty(project, "init")
    for name, body in files.items():
        (project / name).write_text(body)
    result = ty(project, "job", "submit", *args, check=False)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert json.loads(ty(project, "run", "list", "-o", "json").stdout) == []


def test_no_workspace_is_a_clear_error(tmp_path: Path):
    result = ty(tmp_path, "run", "list", check=False)
    assert result.returncode == 1 and "trainyard init" in result.stderr and "Traceback" not in result.stderr


def test_failed_job_exits_non_zero_with_its_error(project: Path):
    ty(project, "init")
    (project / "src" / "boom.py").write_text("raise SystemExit('bad data')\n")
    result = ty(project, "job", "submit", "--script", "boom.py", "--source", "src", "--stream", check=False)
    assert result.returncode == 1 and "bad data" in result.stdout


def test_env_build_list_and_a_job_on_it(project: Path):
    ty(project, "init")
    (project / "env.yml").write_text("name: six\nrequirements: [six==1.16.0]\nenv_vars: {GREETING: hello}\n")
    assert "built" in ty(project, "env", "build", "-f", "env.yml").stdout
    assert "cache hit" in ty(project, "env", "build", "-f", "env.yml").stdout
    envs = json.loads(ty(project, "env", "list", "-o", "json").stdout)
    assert [(e["name"], e["version"], e["built"]) for e in envs] == [("six", 1, True)]
    (project / "src" / "greet.py").write_text(
        "import os, six\nprint(os.environ['GREETING'], six.__version__)\n"
    )
    out = ty(
        project,
        "job",
        "submit",
        "--script",
        "greet.py",
        "--source",
        "src",
        "--env-file",
        "env.yml",
        "--stream",
    ).stdout
    assert "hello 1.16.0" in out and "cache hit" in out


def test_run_cancel_from_the_command_line(project: Path):
    ty(project, "init")
    (project / "src" / "slow.py").write_text("import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    ty(project, "job", "submit", "--script", "slow.py", "--source", "src")
    run_id = json.loads(ty(project, "run", "list", "-o", "json").stdout)[0]["id"]
    import time

    deadline = time.monotonic() + 30
    while "working" not in ty(project, "run", "logs", run_id).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "canceled" in ty(project, "run", "cancel", run_id).stdout
    shown = json.loads(ty(project, "run", "show", run_id, "-o", "json").stdout)
    assert shown["status"] == "canceled" and shown["error"] == "canceled by the user"
    again = ty(project, "run", "cancel", run_id, check=False)
    assert again.returncode == 1 and "already canceled" in again.stderr


def test_a_missing_model_library_names_the_extra(project: Path):
    """A bare `pip install trainyard` lacks the `ml` extra: AutoML and components say what to install."""
    code = (
        "import sys; sys.modules['sklearn'] = None; sys.argv = ['trainyard', 'component', 'list']\n"
        "from trainyard.cli.main import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: this command needs sklearn, one of the model libraries: pip install 'trainyard[ml]'"
    )
