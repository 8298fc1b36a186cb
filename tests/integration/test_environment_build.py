"""Real environment builds with uv (the package registry is reachable here and in CI)."""

from __future__ import annotations

import subprocess
import threading

import pytest

import trainyard as ty
from trainyard.environments import Environment, resolve
from trainyard.errors import EnvironmentBuildError

SIX = Environment(name="six", requirements=["six==1.16.0"], env_vars={"GREETING": "hi"})


def test_build_then_cache_hit_and_trainyard_is_importable(tmp_path):
    lines: list[str] = []
    built = resolve(SIX, tmp_path, log=lines.append)
    assert not built.cache_hit and any("built" in line for line in lines)
    out = subprocess.run(
        [built.python, "-c", "import six, trainyard; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.16.0"
    again = resolve(SIX, tmp_path)
    assert again.cache_hit and again.python == built.python


def test_unresolvable_requirement_fails_with_the_resolvers_message(tmp_path):
    env = Environment(name="bad", requirements=["trainyard-no-such-package-xyz==1.0"])
    with pytest.raises(EnvironmentBuildError, match="trainyard-no-such-package-xyz"):
        resolve(env, tmp_path)
    assert not (tmp_path / env.build_hash()).exists()


def test_concurrent_resolves_build_once(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda: results.append(resolve(SIX, tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and sum(not r.cache_hit for r in results) == 1


def test_job_on_a_custom_environment_and_cache_hit_in_the_log(ws, script_dir):
    src = script_dir({"train.py": "import os, six\nprint('six', six.__version__, os.environ['GREETING'])\n"})
    exp = ty.Experiment(ws, "envs")
    first = exp.submit(ty.ScriptRunConfig(source_directory=src, script="train.py", environment=SIX))
    first.wait_for_completion()
    assert "six 1.16.0 hi" in first.log_text()[0]
    second = exp.submit(ty.ScriptRunConfig(source_directory=src, script="train.py", environment=SIX))
    second.wait_for_completion()
    assert "cache hit" in second.log_text()[0]
    assert [e.name for e in ws.store.list_environments()] == ["six"]


def test_build_failure_fails_the_run_with_the_resolver_message(ws, script_dir):
    src = script_dir({"train.py": "print('never')\n"})
    env = Environment(name="broken", requirements=["trainyard-no-such-package-xyz==1.0"])
    run = ty.Experiment(ws, "envs").submit(
        ty.ScriptRunConfig(source_directory=src, script="train.py", environment=env)
    )
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "failed" and "trainyard-no-such-package-xyz" in details["error"]
    assert "never" not in run.log_text()[0]
