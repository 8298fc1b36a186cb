"""Real environment builds with uv (the package registry is reachable here and in CI)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from importlib.metadata import version

import pytest

import trainyard as ty
from trainyard.environments import Environment, resolve
from trainyard.errors import EnvironmentBuildError

SIX = Environment(name="six", requirements=["six==1.16.0"], env_vars={"GREETING": "hi"})


def test_build_then_cache_hit_and_trainyard_is_importable(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as on machines where imports write no .pyc
    half_built = tmp_path / SIX.build_hash()
    half_built.mkdir()
    (half_built / "left-by-a-killed-build").write_text("")
    lines: list[str] = []
    built = resolve(SIX, tmp_path, log=lines.append)
    assert not built.cache_hit and built.build_hash == SIX.build_hash()
    assert built.python == str(half_built / "bin" / "python") and built.env_vars == {"GREETING": "hi"}
    assert not (half_built / "left-by-a-killed-build").exists()
    assert lines[-1].startswith(f"environment six: built {SIX.build_hash()[:12]} in ")
    # Built byte-compiled: every module a job imports from the environment comes from its .pyc.
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the environment's own copy of trainyard
    verbose = subprocess.run(
        [built.python, "-v", "-c", "import six, trainyard.sdk"], capture_output=True, text=True
    )
    loaded = re.findall(r"^# code object from '?(.*?)'?$", verbose.stderr, flags=re.M)
    ours = [path for path in loaded if path.startswith(str(half_built))]
    assert any(path.endswith(f"six.{sys.implementation.cache_tag}.pyc") for path in ours), ours
    assert any("/trainyard/sdk/__pycache__/" in path for path in ours), ours
    assert [path for path in ours if not path.endswith(".pyc")] == []
    check = "import six, trainyard, importlib.metadata as m; print(six.__version__, m.version('trainyard'))"
    out = subprocess.run([built.python, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1.16.0", version("trainyard")]
    again = resolve(SIX, tmp_path, log=lines.append)
    assert again.cache_hit and again.python == built.python and again.seconds < 0.2
    assert lines[-1] == f"environment six: cache hit {SIX.build_hash()[:12]} (0.00s)"


def test_unresolvable_requirement_fails_with_the_resolvers_message(tmp_path):
    env = Environment(name="bad", requirements=["six", "trainyard-no-such-package-xyz==1.0"])
    with pytest.raises(EnvironmentBuildError) as info:
        resolve(env, tmp_path)
    message = " ".join(str(info.value).split())  # uv wraps its explanation at the terminal width
    assert "environment 'bad': installing 'trainyard-no-such-package-xyz==1.0' failed" in message
    assert "not found in the package registry" in message  # uv's own explanation
    assert "Check the package names and versions" in message
    assert not (tmp_path / env.build_hash()).exists()


def test_unknown_python_version_fails_clearly(tmp_path):
    env = Environment(name="future", python="3.99")
    with pytest.raises(
        EnvironmentBuildError, match="could not create a virtual environment with Python 3.99"
    ):
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
