"""``trainyard many-models …`` as a user types it: a data asset in, one model per store out."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd

from tests.e2e.test_cli import ty
from tests.integration.test_many_models import SCRIPT, sales

SPEC = """\
experiment_name: sales
training_data: data:sales@latest
partition_column_names: [store]
code: ./src
command: python train.py --data ${{inputs.data}} --model ${{outputs.model}}
primary_metric: r2
experiment_timeout_minutes: 2
compute: local
max_concurrent_partitions: 3
"""


def test_train_show_score_and_a_missing_partition_column(tmp_path: Path):
    ty(tmp_path, "init")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(SCRIPT))
    sales().to_csv(tmp_path / "sales.csv", index=False)
    ty(tmp_path, "data", "create", "--name", "sales", "--path", "sales.csv")
    (tmp_path / "many.yml").write_text(SPEC)

    out = ty(tmp_path, "many-models", "train", "-f", "many.yml", "--stream").stdout
    assert "many models: 3 partition(s) by store" in out
    assert "3 of 3 partition(s) have a model (sales-many)" in out
    run_id = out.split("many-models run ")[1].split()[0]

    shown = json.loads(ty(tmp_path, "many-models", "show", run_id[:12], "-o", "json").stdout)
    board = shown["leaderboard"]
    assert shown["status"] == "completed" and board["partition"] == ["store=0", "store=1", "store=2"]
    assert sorted(board["model"]) == ["sales-many:1", "sales-many:2", "sales-many:3"]
    models = json.loads(ty(tmp_path, "model", "list", "-o", "json").stdout)
    assert any(m["name"] == "sales-many" for m in models)

    sales().drop(columns="y").head(90).to_csv(tmp_path / "new.csv", index=False)
    out = ty(tmp_path, "many-models", "score", "-f", "many.yml", "--data", "new.csv", "--output", "out.csv")
    assert "scored 90 row(s) with sales-many" in out.stdout
    scored = pd.read_csv(tmp_path / "out.csv")
    assert len(scored) == 90 and set(scored["model"]) == {board["model"][0], board["model"][1]}

    (tmp_path / "bad.yml").write_text(SPEC.replace("[store]", "[region]"))
    bad = ty(tmp_path, "many-models", "train", "-f", "bad.yml", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "partition column(s) 'region' not in training_data" in bad.stderr
    pd.DataFrame({"store": [9], "x": [1.0]}).to_csv(tmp_path / "unknown.csv", index=False)
    bad = ty(
        tmp_path,
        "many-models",
        "score",
        "-f",
        "many.yml",
        "--data",
        "unknown.csv",
        "--output",
        "o.csv",
        check=False,
    )
    assert (
        bad.returncode != 0 and "no model of 'sales-many' for partition(s) store=9 (1 row(s))" in bad.stderr
    )
