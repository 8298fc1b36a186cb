"""A deployment that scores in its own environment: built once and cached as jobs' environments
are, named in code (InferenceConfig), on the command line or in a deployment YAML, and kept when
its scoring server restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types

import pytest

import trainyard as ty
from trainyard import models
from trainyard.environments import Environment, default_cache_dir
from trainyard.errors import TrainyardError
from trainyard.serving import endpoints

# six 1.16.0 is not the six of trainyard's own virtual environment, and GREETING is set nowhere else
SIX = Environment(name="six", requirements=["six==1.16.0"], env_vars={"GREETING": "hi"})
SCRIPT = """\
import os, sys
import six

def init():
    pass

def run(raw_data):
    return {"six": six.__version__, "greeting": os.environ.get("GREETING"), "prefix": sys.prefix,
            "pid": os.getpid()}
"""


@pytest.fixture
def endpoint(ws, tmp_path):
    echo = types.SimpleNamespace(predict=lambda frame: [0] * len(frame))  # loads anywhere: no ML library
    ty.Model.register(ws, models.save(echo, tmp_path / "echo"), "echo")
    (tmp_path / "score").mkdir()
    (tmp_path / "score" / "score.py").write_text(SCRIPT)
    endpoints.create_endpoint(ws, "env-ep")
    yield tmp_path / "score" / "score.py"
    endpoints.delete_endpoint(ws, "env-ep")


def scored_by(ws, deployment: str) -> dict:
    status, reply = endpoints.invoke(ws, "env-ep", b"{}", deployment=deployment)
    assert status == 200, reply
    return reply


def log_of(ws, deployment: str) -> str:
    return (ws.root / "endpoints" / f"env-ep.{deployment}.log").read_text()


def restarted(ws, deployment: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = ws.store.get_deployment("env-ep", deployment)
        if record.restarts == 1 and record.status == "ready":
            time.sleep(0.6)  # the router re-reads the new port
            return record
        time.sleep(0.2)
    raise AssertionError(f"{deployment} was not ready again within {timeout:g}s")


def test_deployments_score_in_their_environment_built_once(ws, endpoint, tmp_path):
    built = default_cache_dir() / SIX.build_hash()
    blue = endpoints.create_deployment(
        ws, "env-ep", "blue", "echo:1", inference_config=ty.InferenceConfig(str(endpoint), SIX)
    )
    assert blue.environment == "six:1"
    first = scored_by(ws, "blue")
    assert first["six"] == "1.16.0" and first["greeting"] == "hi" and first["prefix"] == str(built)
    assert f"environment six: building {SIX.build_hash()[:12]}" in log_of(ws, "blue")

    (tmp_path / "green.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
        "name: green\nendpoint_name: env-ep\nmodel: azureml:echo:1\nenvironment: six\n"
        "code_configuration:\n  code: score\n  scoring_script: score.py\n"
    )
    cli = subprocess.run(
        [sys.executable, "-m", "trainyard", "deployment", "create", "-f", str(tmp_path / "green.yml")],
        env={**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "in environment six:1" in cli.stdout
    assert scored_by(ws, "green")["prefix"] == str(built)
    assert "environment six: cache hit" in log_of(ws, "green") and "building" not in log_of(ws, "green")
    assert [p.name for p in default_cache_dir().iterdir() if p.is_dir()] == [SIX.build_hash()]
    shown = {d["name"]: d["environment"] for d in endpoints.describe(ws, "env-ep")["deployments"]}
    assert shown == {"blue": "six:1", "green": "six:1"}

    os.kill(first["pid"], signal.SIGKILL)  # the scoring server dies; its supervisor starts another
    assert restarted(ws, "blue").environment == "six:1"
    again = scored_by(ws, "blue")
    assert again["pid"] != first["pid"] and again["prefix"] == str(built) and again["six"] == "1.16.0"
    kept = endpoints.inference_config_of(ws, "env-ep", "blue")
    assert kept.environment == "six:1" and kept.entry_script.read_text() == SCRIPT


def test_an_environment_that_does_not_build_fails_only_its_deployment(ws, endpoint):
    broken = Environment(name="broken", requirements=["trainyard-no-such-package-xyz==1.0"])
    with pytest.raises(TrainyardError, match="its environment: environment 'broken': installing"):
        endpoints.create_deployment(ws, "env-ep", "red", "echo:1", environment=broken)
    record = ws.store.get_deployment("env-ep", "red")
    assert record.status == "failed" and "trainyard-no-such-package-xyz" in record.error
    with pytest.raises(TrainyardError, match="no environment"):
        endpoints.create_deployment(ws, "env-ep", "grey", "echo:1", environment="nameless:3")


def test_the_inference_config_or_the_arguments_not_both(ws, endpoint):
    with pytest.raises(TrainyardError, match="not both"):
        endpoints.create_deployment(
            ws, "env-ep", "blue", "echo:1", environment="six", inference_config=ty.InferenceConfig(endpoint)
        )
    assert ws.store.list_deployments("env-ep") == []
