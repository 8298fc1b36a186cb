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
