"""Script jobs on local compute, end to end: real worker processes, a real SQLite workspace."""

from __future__ import annotations

import os
import signal
import time

import pytest

import trainyard as ty
from trainyard.compute.job import JobRecord
from trainyard.errors import InvalidInputError
from trainyard.liveness import worker_alive, worker_id
from trainyard.status import RunStatus

TRAIN = """
import os, sys
from trainyard import Run
run = Run.get_context()
print("hello from", os.getcwd(), "args", sys.argv[1:], flush=True)
run.log(name="loss", value=1.0)
run.log(name="loss", value=0.5)
run.log("acc", 0.9)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write("weights")
open("scratch.txt", "w").write("written in the job's copy")
"""


def submit(ws, src, script="train.py", args=(), **kw):
    exp = ty.Experiment(ws, "tests")
    return exp.submit(ty.ScriptRunConfig(source_directory=src, script=script, arguments=list(args), **kw))


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_script_job_runs_logs_metrics_and_uploads_outputs(ws, script_dir, tmp_path):
    src = script_dir({"train.py": TRAIN, ".gitignore": "data/\n", "data/big.bin": "x" * 100})
    run = submit(ws, src, args=["--alpha", 0.5])
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "completed", details
    assert run.get_metrics() == {"loss": [1.0, 0.5], "acc": 0.9}
    names = run.get_file_names()
    assert "outputs/model.txt" in names and "logs/std_log.txt" in names
    log = run.log_text()[0]
    assert "args ['--alpha', '0.5']" in log
    assert "hello from" in log and str(src) not in log  # ran on a copy, not in the source folder
    assert not (src / "scratch.txt").exists()
    assert run.download_file("outputs/model.txt", tmp_path / "m.txt").read_text() == "weights"
    from trainyard.jobs.snapshot import select_files

    assert "data/big.bin" not in select_files(src)


def test_a_named_output_is_a_folder_the_command_writes_uploaded_under_outputs(ws, script_dir):
    from trainyard.jobs.spec import make_job
    from trainyard.jobs.submit import submit_job

    src = script_dir({"w.py": "import sys, pathlib; (pathlib.Path(sys.argv[1]) / 'f.txt').write_text('x')\n"})
    job = make_job(
        code=str(src),
        command="python w.py ${{outputs.train}}",
        outputs={"train": {"type": "uri_folder", "name": "prepared", "version": "1"}},
    )
    assert job.argv() == ["python", "w.py", "outputs/train"]
    run = ty.Run(ws, submit_job(ws, job).id)
    assert run.wait_for_completion(show_output=False)["status"] == "completed"
    assert "outputs/train/f.txt" in run.get_file_names()
    data = ty.Data(ws, "prepared@latest")  # the named output is the data asset's next version
    assert (data.path() / "f.txt").read_text() == "x"
    assert data.record.created_by_run == run.id
    assert [(r.run_id, r.direction) for r in ws.store.list_data_lineage(name="prepared")] == [
        (run.id, "written")
    ]
    failing = make_job(code=str(src), command="python -c 'raise SystemExit(3)' ${{outputs.train}}")
    failing.outputs = job.outputs
    failed = ty.Run(ws, submit_job(ws, failing).id)
    assert failed.wait_for_completion(show_output=False, raise_on_error=False)["status"] == "failed"
    assert ty.Data(ws, "prepared@latest").version == data.version  # a failed run registers nothing
    with pytest.raises(InvalidInputError, match="there is no output 'model'"):
        make_job(code=str(src), command="python w.py ${{outputs.model}}").argv()


def test_a_script_that_raises_fails_with_its_error(ws, script_dir):
    body = "from trainyard import Run\nRun.get_context().log('m', 1)\nraise ValueError('bad alpha')\n"
    src = script_dir({"train.py": body})
    run = submit(ws, src)
    with pytest.raises(ty.RunFailedError, match="ValueError: bad alpha"):
        run.wait_for_completion()
    info = run.refresh()
    assert info.status is ty.RunStatus.FAILED and info.exit_code == 1
    assert "Traceback" in run.log_text()[0]
    assert run.get_metrics() == {"m": 1.0}


def test_run_fail_inside_the_script_marks_the_run_failed(ws, script_dir):
    src = script_dir({"train.py": "from trainyard import Run\nRun.get_context().fail('data was empty')\n"})
    run = submit(ws, src)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "failed" and details["error"] == "data was empty"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"script": "missing.py"}, "not found"),
        ({"compute_target": "gpu-cluster"}, "unknown compute target"),
    ],
)
def test_bad_submissions_fail_before_anything_is_queued(ws, script_dir, kwargs, message):
    src = script_dir({"train.py": "print(1)"})
    kwargs = {"script": "train.py", **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        ty.Experiment(ws, "tests").submit(ty.ScriptRunConfig(source_directory=src, **kwargs))
    assert ws.store.search_runs() == []


def test_an_input_the_store_refuses_leaves_no_run_behind(ws, script_dir):
    from trainyard.jobs.spec import CommandJob
    from trainyard.jobs.submit import submit_job

    src = script_dir({"train.py": "print(1)"})
    job = CommandJob(code=str(src), command="python train.py", inputs={"note": "x" * 7000})
    with pytest.raises(InvalidInputError, match="limit is 6000"):
        submit_job(ws, job)
    assert ws.store.search_runs() == []


def test_a_submit_that_fails_after_the_run_exists_fails_the_run_with_the_reason(ws, script_dir, monkeypatch):
    from trainyard.compute.local import LocalCompute

    def no_process(self, ws, info):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(LocalCompute, "submit", no_process)
    src = script_dir({"train.py": "print(1)"})
    with pytest.raises(OSError):
        submit(ws, src)
    (run,) = ws.store.search_runs()
    assert run.status == ty.RunStatus.FAILED
    assert "Resource temporarily unavailable" in run.error


def test_missing_source_directory(ws, tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        submit(ws, tmp_path / "nope")


def test_killing_the_script_fails_the_run_and_keeps_earlier_metrics(ws, script_dir):
    src = script_dir(
        {
            "train.py": """
        import os, time
        from trainyard import Run
        run = Run.get_context()
        for i in range(5):
            run.log("step", i)
        run.flush()
        open(os.environ["PIDFILE"], "w").write(str(os.getpid()))
        time.sleep(60)
    """
        }
    )
    pidfile = src.parent / "pid"
    os.environ["PIDFILE"] = str(pidfile)
    try:
        run = submit(ws, src)
        wait_for(lambda: pidfile.exists() and pidfile.read_text())
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    finally:
        del os.environ["PIDFILE"]
    assert details["status"] == "failed"
    assert "SIGKILL" in details["error"]
    assert run.get_metrics()["step"] == [0, 1, 2, 3, 4]


def test_killing_the_worker_fails_the_run_within_bounded_time(ws, script_dir):
    src = script_dir(
        {
            "train.py": """
        import time
        from trainyard import Run
        run = Run.get_context()
        run.log("before", 1)
        run.flush()
        print("started", flush=True)
        time.sleep(60)
    """
        }
    )
    run = submit(ws, src)
    wait_for(lambda: "started" in run.log_text()[0])
    worker = run.refresh().worker
    pid = int(worker.rsplit(":", 2)[1])
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    assert time.monotonic() - started < 15
    assert details["status"] == "failed" and "worker lost" in details["error"]
    assert run.get_metrics() == {"before": 1.0}
    assert worker_alive(worker) is False


def test_cancel_stops_the_whole_process_group(ws, script_dir):
    src = script_dir(
        {
            "train.py": """
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open(os.environ["PIDFILE"], "w").write(str(child.pid))
        print("running", flush=True)
        time.sleep(120)
    """
        }
    )
    pidfile = src.parent / "grandchild"
    os.environ["PIDFILE"] = str(pidfile)
    try:
        run = submit(ws, src)
        wait_for(lambda: pidfile.exists() and pidfile.read_text())  # the worker also prints "running"
        run.cancel()
        details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    finally:
        del os.environ["PIDFILE"]
    assert details["status"] == "canceled"
    grandchild = int(pidfile.read_text())
    wait_for(lambda: worker_alive(worker_id(grandchild)) is not True)


def test_a_canceled_run_keeps_the_reason_it_was_given(ws, script_dir):
    src = script_dir({"train.py": "import time\nprint('working', flush=True)\ntime.sleep(120)\n"})
    run = submit(ws, src)
    wait_for(lambda: "working" in run.log_text()[0])
    run.cancel("the data was wrong")
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    info = run.refresh()
    assert details["status"] == "canceled" and details["error"] == "the data was wrong"
    assert info.cancel_reason == "the data was wrong"
    assert "stopping: the data was wrong" in run.log_text()[0]


def test_a_queued_run_canceled_at_once_reports_its_reason(ws):
    from trainyard.jobs.spec import make_job
    from trainyard.jobs.submit import job_record, prepare_job

    exp = ws.store.get_or_create_experiment("tests")
    prepared = prepare_job(
        ws, make_job(command=["python", "-c", "print(1)"], code=str(ws.root.parent)), exp.id
    )
    info = ws.store.create_run(exp.id, compute="local", job=job_record(prepared, JobRecord).to_json())
    run = ty.Run(ws, info.id)  # queued, with no worker yet
    run.cancel()
    info = run.refresh()
    assert info.status.value == "canceled" and info.error == info.cancel_reason == "canceled by the user"


def test_a_command_that_cannot_start_fails(ws, script_dir):
    exp = ty.Experiment(ws, "tests")
    run = exp.submit(ty.ScriptRunConfig(source_directory=script_dir({}), command=["no-such-program-here"]))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    assert details["status"] == "failed" and "cannot start 'no-such-program-here'" in details["error"]
    assert run.refresh().cancel_reason is None


def test_a_queued_run_whose_job_record_is_malformed_fails_saying_why(ws):
    from trainyard.compute.worker import Worker

    exp = ws.store.get_or_create_experiment("tests")
    info = ws.store.create_run(exp.id, compute="local", job={"type": "command", "command": "x", "argv": []})
    handler = signal.getsignal(signal.SIGTERM)
    try:
        Worker(ws, info.id).run()
    finally:
        signal.signal(signal.SIGTERM, handler)
    info = ws.store.get_run(info.id)
    assert info.status.value == "failed" and "has a malformed job record (argv:" in info.error


def test_a_lost_worker_with_a_malformed_job_record_is_failed_not_retried(ws):
    from trainyard.compute.reaper import reap

    exp = ws.store.get_or_create_experiment("tests")
    info = ws.store.create_run(exp.id, compute="local", job={"argv": ["x"], "max_retries": "many"})
    ws.store.set_status(info.id, RunStatus.RUNNING, expected=RunStatus.QUEUED, worker="elsewhere:1:1")
    assert reap(ws, now=time.time() + 3600) == [info.id]
    info = ws.store.get_run(info.id)
    assert info.status is RunStatus.FAILED and info.attempt == 1
    assert "no heartbeat" in info.error and "not retried: run" in info.error and "max_retries" in info.error


def test_cancel_of_a_finished_run_is_refused(ws, script_dir):
    run = submit(ws, script_dir({"train.py": "print('done')"}))
    run.wait_for_completion()
    with pytest.raises(ty.TrainyardError, match="already completed"):
        run.cancel()


def test_timeout_fails_the_run(ws, script_dir):
    src = script_dir({"train.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"})
    run = submit(ws, src, max_run_duration_seconds=1)
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    assert details["status"] == "failed" and "timed out after 1s (the job's timeout)" in details["error"]
    assert run.refresh().cancel_reason is None  # a timeout is the job's own limit, not a cancel


def test_queued_runs_wait_for_a_free_slot(ws, script_dir):
    import yaml

    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    cfg["local"] = {"concurrency": 1}
    (ws.root / "config.yaml").write_text(yaml.safe_dump(cfg))
    ws = ty.Workspace(ws.root)
    src = script_dir({"train.py": "import time\ntime.sleep(1.0)\n"})
    first, second = submit(ws, src), submit(ws, src)
    for run in (first, second):
        run.wait_for_completion()
    a, b = sorted((first.refresh(), second.refresh()), key=lambda r: r.start_time)
    assert a.end_time <= b.start_time
    assert "waiting for a free local slot" in ty.Run(ws, b.id).log_text()[0]


def test_source_edited_after_submit_does_not_change_the_run(ws, script_dir):
    import yaml

    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    cfg["local"] = {"concurrency": 1}
    (ws.root / "config.yaml").write_text(yaml.safe_dump(cfg))
    ws = ty.Workspace(ws.root)
    src = script_dir({"train.py": "import time\ntime.sleep(1)\n", "msg.py": "print('v1')"})
    blocker = submit(ws, src)
    run = submit(ws, src, script="msg.py")
    (src / "msg.py").write_text("print('v2')")
    blocker.wait_for_completion()
    run.wait_for_completion()
    assert "v1" in run.log_text()[0] and "v2" not in run.log_text()[0]


def test_snapshot_limit_names_the_biggest_files(ws, script_dir):
    import yaml

    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    cfg["snapshot_max_mb"] = 0.01
    (ws.root / "config.yaml").write_text(yaml.safe_dump(cfg))
    ws = ty.Workspace(ws.root)
    src = script_dir({"train.py": "print(1)", "weights.bin": "0" * 20_000})
    with pytest.raises(ty.TrainyardError, match=r"weights\.bin"):
        submit(ws, src)
    assert ws.store.search_runs() == []


def test_a_lost_worker_is_retried_and_each_attempt_keeps_its_own_metrics(ws, script_dir):
    """The first attempt logs steps 0-29 and kills its own worker; the retry logs 0-39 afresh."""
    src = script_dir(
        {
            "train.py": """
        import os, signal, time
        from trainyard import Run
        run = Run.get_context()
        marker = os.environ["MARKER"]
        first = not os.path.exists(marker)
        open(marker, "a").close()
        print("logging under attempt", os.environ["TRAINYARD_ATTEMPT"], flush=True)
        for step in range(30 if first else 40):
            run.log("loss", (1.0 if first else 2.0) / (step + 1), step=step)
        run.flush()
        if first:
            print("first attempt at step 29", flush=True)
            os.kill(os.getppid(), signal.SIGKILL)  # the worker; this script dies with it
            time.sleep(60)
        print("second attempt done", flush=True)
    """
        }
    )
    os.environ["MARKER"] = str(src.parent / "marker")
    try:
        run = submit(ws, src, max_retries=1)
        details = run.wait_for_completion(timeout_seconds=90)
    finally:
        del os.environ["MARKER"]
    assert details["status"] == "completed" and details["attempt"] == 2
    log = run.log_text()[0]
    assert "first attempt at step 29" in log and "second attempt done" in log
    assert "logging under attempt 1" in log and "logging under attempt 2" in log
    last = run.get_metric_history("loss")
    assert [(m.step, m.value) for m in last] == [(s, 2.0 / (s + 1)) for s in range(40)]
    assert run.get_metrics()["loss"] == [m.value for m in last]
    first = run.get_metric_history("loss", attempt=1)
    assert [(m.step, m.value) for m in first] == [(s, 1.0 / (s + 1)) for s in range(30)]
    assert run.refresh().metrics == {"loss": 2.0 / 40}


@pytest.mark.postgres
def test_a_job_on_a_postgresql_workspace(tmp_path, pg_uri, script_dir, monkeypatch):
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    ws_pg = ty.Workspace.create(tmp_path / "pg", store=pg_uri)
    src = script_dir({"train.py": TRAIN})
    run = submit(ws_pg, src)
    assert run.wait_for_completion()["status"] == "completed"
    assert run.get_metrics() == {"loss": [1.0, 0.5], "acc": 0.9}
    assert ws_pg.store.get_run(run.id).metrics == {"loss": 0.5, "acc": 0.9}
    ws_pg.close()


def test_two_workers_for_one_run_run_it_once(ws, script_dir):
    from trainyard.compute.local import LocalCompute

    src = script_dir({"train.py": "import os\nprint('ran in', os.getpid(), flush=True)\n"})
    run = submit(ws, src)
    LocalCompute().submit(ws, run.refresh())  # e.g. a restarted sweep driver starting it again
    assert run.wait_for_completion()["status"] == "completed"
    time.sleep(1)
    assert run.log_text()[0].count("ran in") == 1
    assert run.refresh().status is ty.RunStatus.COMPLETED
