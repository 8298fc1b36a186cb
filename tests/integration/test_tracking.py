"""The run context scripts log to: Azure ML SDK v1 compatible calls, offline runs, fault cases."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest

import trainyard as ty
from trainyard.errors import InvalidInputError
from trainyard.status import RunStatus
from trainyard.workspace import Workspace


def run_python(code: str, cwd, env_extra=None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, **(env_extra or {})}
    env.pop("TRAINYARD_RUN_ID", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_azureml_style_script_runs_offline_and_records_to_the_workspace(ws):
    result = run_python(
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from trainyard import Run
        run = Run.get_context()
        run.log(name="loss", value=0.9)
        run.log("loss", 0.7, description="second value makes a series")
        run.log_list("accuracies", [0.5, 0.6, 0.7])
        run.log_table("confusion", {"actual": [0, 1], "predicted": [0, 0]})
        run.log_row("per_class", cls="a", recall=0.5)
        run.log_row("per_class", cls="b", recall=0.75)
        plt.plot([1, 2, 3])
        run.log_image("curve", plot=plt)
        run.set_tags({"team": "vision"})
        run.tag("quick")
        open("notes.txt", "w").write("hi")
        run.upload_file("notes/notes.txt", "notes.txt")
        child = run.child_run(name="fold-1")
        child.log("auc", 0.8)
        child.complete()
        kids = run.create_children(count=2)
        kids[0].log("auc", 0.7)
        print(run.id)
    """,
        ws.root.parent,
    )
    assert result.returncode == 0, result.stderr
    run = ty.Run(ws, result.stdout.strip().splitlines()[-1])
    info = run.refresh()
    assert info.status is ty.RunStatus.COMPLETED  # finished at exit
    metrics = run.get_metrics()
    assert metrics["loss"] == [0.9, 0.7]
    assert metrics["accuracies"] == [0.5, 0.6, 0.7]
    assert metrics["confusion"] == {"actual": [0, 1], "predicted": [0, 0]}
    assert metrics["per_class"] == {"cls": ["a", "b"], "recall": [0.5, 0.75]}
    assert info.tags == {"team": "vision", "quick": ""}
    assert {"images/curve.png", "notes/notes.txt"} <= set(run.get_file_names())
    assert run.workspace.artifacts.get_bytes(f"runs/{run.id}/images/curve.png")[:4] == b"\x89PNG"
    children = run.get_children()
    assert len(children) == 3
    assert {c.get_status() for c in children} == {"completed"}
    assert sorted(c.get_metrics().get("auc", 0) for c in children) == [0, 0.7, 0.8]


def test_offline_run_fails_when_the_script_raises(ws):
    result = run_python(
        """
        from trainyard import Run
        run = Run.get_context()
        run.log("x", 1)
        print(run.id, flush=True)
        raise RuntimeError("diverged")
    """,
        ws.root.parent,
    )
    assert result.returncode == 1
    info = ws.store.get_run(result.stdout.strip())
    assert info.status is ty.RunStatus.FAILED and "RuntimeError: diverged" in info.error
    assert ws.store.get_metric_history(info.id)[0].value == 1


def test_notebook_style_start_logging(ws):
    run = ty.Experiment(ws, "notebook").start_logging(display_name="try-1")
    run.log("a", 1)
    run.complete()
    assert run.get_status() == "completed"
    assert run.get_metrics() == {"a": 1.0}
    with pytest.raises(ty.TrainyardError, match="already completed"):
        run.fail("too late")


def test_values_users_log_are_stored_or_refused_clearly(ws):
    run = ty.Experiment(ws, "edge").start_logging()
    run.log("nan", math.nan)
    run.log("inf", math.inf)
    run.log("neg_inf", -math.inf)
    run.log("train/loss", 0.5)
    run.log("précision ✓", 0.25)
    run.log("flag", True)
    metrics = run.get_metrics()
    assert math.isnan(metrics["nan"]) and metrics["inf"] == math.inf and metrics["neg_inf"] == -math.inf
    assert metrics["train/loss"] == 0.5 and metrics["précision ✓"] == 0.25 and metrics["flag"] == 1.0
    with pytest.raises(InvalidInputError, match="must be a number"):
        run.log("text", "hello")
    with pytest.raises(InvalidInputError, match="limit"):
        run.set_tags({"huge": "x" * 10_000_000})
    with pytest.raises(InvalidInputError, match="limit is 250"):
        run.log("k" * 300, 1)
    run.complete()
    assert "huge" not in run.tags


def test_a_hundred_thousand_values_are_all_kept(ws):
    result = run_python(
        """
        from trainyard import Run
        run = Run.get_context()
        for i in range(100_000):
            run.log("loss", 1.0 / (i + 1))
        print(run.id)
    """,
        ws.root.parent,
    )
    assert result.returncode == 0, result.stderr
    history = ws.store.get_metric_history(result.stdout.strip(), "loss")
    assert len(history) == 100_000
    assert [m.step for m in history[:3]] == [0, 1, 2] and history[-1].value == pytest.approx(1e-5)


def test_four_processes_logging_to_one_sqlite_workspace(ws):
    code = """
        from trainyard import Run
        run = Run.get_context()
        for i in range(2000):
            run.log("v", i)
            if i % 100 == 0:
                run.flush()
        print(run.id)
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=ws.root.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert not any("locked" in o[1] for o in outs)
    for out, _ in outs:
        assert len(ws.store.get_metric_history(out.strip(), "v")) == 2000


def test_cancel_records_a_self_driven_run_as_canceled(tmp_path):
    """Offline (notebook) and MLflow-client runs have no worker: canceling them only records it."""
    from trainyard.compute import get_compute

    ws = Workspace.create(tmp_path / "ws")
    exp = ws.store.get_or_create_experiment("notebook")
    for compute in ("offline", "external"):
        info = ws.store.create_run(exp.id, status=RunStatus.RUNNING, compute=compute)
        get_compute(compute, ws).cancel(ws, info, "the notebook was closed")
        done = ws.store.get_run(info.id)
        assert done.status == RunStatus.CANCELED
        assert done.cancel_reason == done.error == "the notebook was closed"
        with pytest.raises(InvalidInputError, match="submit jobs to 'local'"):
            get_compute(compute, ws).submit(ws, info)
