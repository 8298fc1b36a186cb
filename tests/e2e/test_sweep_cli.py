"""``trainyard sweep …`` as a user types it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_cli import project, ty  # noqa: F401 - the fixture and the runner

SWEEP = """
experiment_name: tune
code: ./src
command: python train.py --alpha ${{search_space.alpha}} --name n
search_space:
  alpha: {type: choice, values: [0.5, 1, 2]}
sampling: grid
objective: {primary_metric: loss, goal: minimize}
early_termination: {type: truncation_selection, truncation_percentage: 20}
limits: {max_total_trials: 5, max_concurrent_trials: 2}
"""


def test_submit_stream_show_plot_and_json(project: Path):  # noqa: F811
    ty(project, "init")
    (project / "sweep.yml").write_text(textwrap.dedent(SWEEP))
    out = ty(project, "sweep", "submit", "-f", "sweep.yml", "--stream").stdout
    assert "grid sampling of alpha" in out and "Sweep" in out and "best: trial" in out
    sweep_id = next(
        r["id"] for r in json.loads(ty(project, "run", "list", "-o", "json").stdout) if not r["parent_id"]
    )
    shown = json.loads(ty(project, "sweep", "show", sweep_id, "-o", "json").stdout)
    assert shown["status"] == "completed" and len(shown["trials"]) == 3
    assert shown["trials"][0]["params"] == {"alpha": "0.5"}  # minimize: the smallest loss first
    assert shown["best_run_id"] == shown["trials"][0]["run_id"]
    ty(project, "sweep", "show", sweep_id[:12], "--plot", "sweep.png")
    assert (project / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    refused = ty(project, "sweep", "resume", sweep_id, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    trial = shown["trials"][0]["run_id"]
    not_sweep = ty(project, "sweep", "show", trial, check=False)
    assert not_sweep.returncode == 1 and "not a sweep" in not_sweep.stderr
    trials = [t["run_id"] for t in shown["trials"]]  # best first

    parent = json.loads(ty(project, "run", "show", sweep_id, "-o", "json").stdout)
    assert parent["tags"]["sweep.primary_metric"] == parent["primary_metric"] == "loss"
    assert [(c["id"], c["status"], c["primary_metric"]) for c in parent["children"]] == [
        (t["run_id"], t["status"], t["loss"]) for t in sorted(shown["trials"], key=lambda t: t["trial"])
    ]
    out = ty(project, "run", "show", sweep_id).stdout
    assert "tag sweep.primary_metric" in out and "Child runs (3)" in out
    assert all(t[:12] in out for t in trials)

    compared = json.loads(ty(project, "run", "compare", *[t[:12] for t in trials], "-o", "json").stdout)
    assert [r["id"] for r in compared["runs"]] == trials
    alphas = [t["params"]["alpha"] for t in shown["trials"]]
    assert sorted(alphas) == ["0.5", "1", "2"]
    assert compared["params"]["alpha"] == {"values": alphas, "differ": True}
    assert compared["metrics"]["loss"]["values"] == [t["loss"] for t in shown["trials"]]
    table = ty(project, "run", "compare", trials[0], trials[1]).stdout
    assert "param alpha" in table and "metric loss" in table and trials[1][:12] in table
    for args, message in [
        ((trials[0], "nosuchrun"), "no run with an id starting 'nosuchrun'"),
        ((trials[0], trials[0][:12]), "two or more different runs"),
    ]:
        refused = ty(project, "run", "compare", *args, check=False)
        assert refused.returncode == 1 and message in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "alpha: {type: choice, values: [0.5, 1, 2]}",
                "alpha: {type: uniform, min_value: 3, max_value: 1}",
            ),
            "below",
        ),
        (("alpha: {type: choice, values: [0.5, 1, 2]}", "alpha: {type: choice, values: []}"), "at least one"),
        (
            (
                "alpha: {type: choice, values: [0.5, 1, 2]}",
                "alpha: {type: loguniform, min_value: 0, max_value: 1}",
            ),
            "min_value > 0",
        ),
        (
            (
                "alpha: {type: choice, values: [0.5, 1, 2]}",
                "alpha: {type: uniform, min_value: 0, max_value: 1}",
            ),
            "grid sampling needs discrete",
        ),
        (("max_concurrent_trials: 2", "max_concurrent_trials: 0"), "max_concurrent_trials"),
        (("search_space:\n  alpha: {type: choice, values: [0.5, 1, 2]}", "search_space: {}"), "empty"),
        (("objective: {primary_metric: loss, goal: minimize}", ""), "missing objective"),
    ],
)
def test_bad_sweeps_are_one_line_errors_and_queue_nothing(project: Path, change, message):  # noqa: F811
    ty(project, "init")
    (project / "sweep.yml").write_text(textwrap.dedent(SWEEP).replace(*change))
    result = ty(project, "sweep", "submit", "-f", "sweep.yml", check=False)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert json.loads(ty(project, "run", "list", "-o", "json").stdout) == []
