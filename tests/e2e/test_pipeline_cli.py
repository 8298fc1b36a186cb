"""`trainyard pipeline validate` as a user types it: the layers, or one line naming step and port."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.test_cli import ty


def test_validate_prints_layers_and_a_bad_wire_is_one_line(tmp_path: Path):
    spec = {
        "type": "pipeline",
        "inputs": {"n": 3},
        "jobs": {
            "prep": {
                "command": "python -c pass ${{inputs.n}} ${{outputs.out}}",
                "inputs": {"n": "${{parent.inputs.n}}"},
                "outputs": {"out": {"type": "uri_folder"}},
            },
            "train": {
                "command": "python -c pass ${{inputs.d}}",
                "inputs": {"d": "${{parent.jobs.prep.outputs.out}}"},
            },
        },
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    ok = ty(tmp_path, "pipeline", "validate", "-f", "p.yml", "--set", "inputs.n=4")
    assert "2 steps in 2 layers, valid" in ok.stdout and "prep" in ok.stdout

    spec["jobs"]["train"]["inputs"] = {"d": "${{parent.jobs.prep.outputs.model}}"}
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    bad = ty(tmp_path, "pipeline", "validate", "-f", "p.yml", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0
    assert "step 'train' input 'd': step 'prep' has no output 'model' (out)" in bad.stderr


def test_submit_stream_show_and_rerun_as_a_user_types_them(tmp_path: Path):
    (tmp_path / "write.py").write_text(
        "import pathlib, sys\n(pathlib.Path(sys.argv[2]) / 'n.txt').write_text(sys.argv[1])\n"
    )
    (tmp_path / "read.py").write_text("import sys\nprint(open(sys.argv[1] + '/n.txt').read())\n")
    spec = {
        "type": "pipeline",
        "inputs": {"n": 3},
        "jobs": {
            "prep": {
                "command": "python write.py ${{inputs.n}} ${{outputs.out}}",
                "inputs": {"n": "${{parent.inputs.n}}"},
                "outputs": {"out": {"type": "uri_folder"}},
            },
            "train": {
                "command": "python read.py ${{inputs.d}}",
                "inputs": {"d": "${{parent.jobs.prep.outputs.out}}"},
            },
        },
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    ty(tmp_path, "init")
    out = ty(tmp_path, "pipeline", "submit", "-f", "p.yml", "--stream").stdout
    assert "step prep (command) started" in out and "pipeline completed: 2 step(s), 0 reused" in out
    assert "● prep completed" in out and "← prep" in out  # the DAG drawn at the end
    run_id = out.split("pipeline run ")[1].split()[0]

    shown = ty(tmp_path, "pipeline", "show", run_id[:12]).stdout
    assert "layer 1" in shown and "train completed" in shown

    again = ty(tmp_path, "pipeline", "rerun", run_id[:12], "--from", "train", "--stream").stdout
    assert "step prep reused run" in again and "step train (command) started" in again

    bad = ty(tmp_path, "pipeline", "rerun", run_id[:12], "--set", "inputs.m=1", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "the pipeline has no input 'm' (inputs: n)" in bad.stderr

    no_model = ty(tmp_path, "pipeline", "create-inference", run_id[:12], "--name", "rt", check=False)
    assert no_model.returncode != 0 and "Traceback" not in no_model.stderr
    assert (
        "the pipeline has no train-model step; an inference pipeline is made from exactly one"
        in no_model.stderr
    )
