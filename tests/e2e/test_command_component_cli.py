"""Command components as a user types them: register, list beside the Studio modules, show,
archive, a bad file in one line, and a pipeline of a component file and a registered component."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.test_cli import ty
from tests.unit.test_command_component import component, write


def one_line_error(result, message: str) -> None:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr


def test_register_list_show_archive_and_a_bad_file(tmp_path: Path):
    ty(tmp_path, "init")
    write(tmp_path, component())
    assert "train_churn:1 registered" in ty(tmp_path, "component", "register", "-f", "train.yml").stdout
    again = json.loads(ty(tmp_path, "component", "register", "-f", "train.yml", "-o", "json").stdout)
    assert again["version"] == "1" and len(again["snapshot_id"]) == 64

    (tmp_path / "src" / "train.py").write_text("print('changed')\n")  # other code, same version
    clash = ty(tmp_path, "component", "register", "-f", "train.yml", check=False)
    one_line_error(clash, "component 'train_churn' version '1' is already registered with other content")
    write(tmp_path, {k: v for k, v in component().items() if k != "version"}, "next.yml")
    (tmp_path / "src" / "train.py").write_text("print('changed')\n")
    assert "train_churn:2 registered" in ty(tmp_path, "component", "register", "-f", "next.yml").stdout

    listed = ty(tmp_path, "component", "list").stdout
    assert "registered" in listed and "train_churn" in listed and "Train Model" in listed
    schemas = json.loads(ty(tmp_path, "component", "list", "-o", "json").stdout)
    ours = [s for s in schemas if s["source"] == "registered"]
    assert [(s["name"], s["version"]) for s in ours] == [("train_churn", "2")]
    assert ours[0]["params"]["properties"]["alpha"]["maximum"] == 1
    assert {s["source"] for s in schemas} == {"studio", "registered"}

    shown = ty(tmp_path, "component", "show", "train_churn:1").stdout
    assert "train_churn:1" in shown and "alpha" in shown and "mlflow_model" in shown
    assert json.loads(ty(tmp_path, "component", "show", "train_churn", "-o", "json").stdout)["version"] == "2"

    assert "archived" in ty(tmp_path, "component", "archive", "train_churn:2").stdout
    latest = json.loads(ty(tmp_path, "component", "show", "azureml:train_churn@latest", "-o", "json").stdout)
    assert latest["version"] == "1"

    write(tmp_path, component(inputs={"alpha": {"type": "number", "default": 2, "max": 1}}), "bad.yml")
    bad = ty(tmp_path, "component", "register", "-f", "bad.yml", check=False)
    one_line_error(bad, "bad.yml is not a valid command component: inputs.alpha: default must be at most 1")
    one_line_error(ty(tmp_path, "component", "show", "train_churn:9", check=False), "no version '9'")
    one_line_error(ty(tmp_path, "component", "register", "-f", "none.yml", check=False), "does not exist")
    taken = ty(
        tmp_path,
        "component",
        "register",
        "-f",
        write(tmp_path, component(name="train-model"), "t.yml").name,
        check=False,
    )
    one_line_error(taken, "'train-model' is a catalogue module")


def test_a_pipeline_of_a_component_file_and_a_registered_component_validates(tmp_path: Path):
    ty(tmp_path, "init")
    write(tmp_path, component())
    ty(tmp_path, "component", "register", "-f", "train.yml")
    score = component(
        name="score_churn",
        version="0.1",
        inputs={"model": {"type": "mlflow_model"}, "rows": {"type": "integer", "default": 10, "min": 1}},
        outputs={"scores": {"type": "mltable"}},
        command="python score.py ${{inputs.model}} ${{inputs.rows}} ${{outputs.scores}}",
    )
    write(tmp_path, score, "score.yml")
    (tmp_path / "data").mkdir()
    spec = {
        "type": "pipeline",
        "inputs": {"raw": {"type": "uri_folder", "path": "data"}, "rows": 5},
        "jobs": {
            "train": {"component": "azureml:train_churn:1", "inputs": {"data": "${{parent.inputs.raw}}"}},
            "score": {
                "component": "./score.yml",
                "inputs": {
                    "model": "${{parent.jobs.train.outputs.model}}",
                    "rows": "${{parent.inputs.rows}}",
                },
            },
        },
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    ok = ty(tmp_path, "pipeline", "validate", "-f", "p.yml")
    assert "2 steps in 2 layers, valid" in ok.stdout and "train_churn:1" in ok.stdout

    spec["jobs"]["check"] = {
        "component": "azureml:train_churn@latest",
        "inputs": {"data": "${{parent.inputs.raw}}", "alpha": "${{parent.jobs.score.outputs.scores}}"},
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    wrong = ty(tmp_path, "pipeline", "validate", "-f", "p.yml", check=False)
    one_line_error(wrong, "step 'check' input 'alpha' takes a number value but is wired to a table")

    spec["jobs"]["check"] = {"component": "train_churn:7", "inputs": {"data": "${{parent.inputs.raw}}"}}
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    missing = ty(tmp_path, "pipeline", "validate", "-f", "p.yml", check=False)
    one_line_error(missing, "step 'check': component 'train_churn' has no version '7' (1)")
