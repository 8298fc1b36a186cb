"""Parallel jobs: the settings, splitting, the runner's retries, timeout, threshold and output."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from trainyard.errors import InvalidInputError
from trainyard.parallel.batches import split
from trainyard.parallel.progress import Progress
from trainyard.parallel.rows import assemble, result_lines, write_part
from trainyard.parallel.runner import ParallelJobError, ParallelJobStopped, run_parallel
from trainyard.parallel.settings import ParallelSettings
from trainyard.parallel.spec import parallel_command_job

SRC = Path(__file__).resolve().parents[2] / "src"

ECHO = """
import os
def run(mini_batch):
    return [os.path.basename(p) for p in mini_batch]
"""


def settings(script: Path, **fields) -> ParallelSettings:
    return ParallelSettings.model_validate({"task": {"entry_script": str(script)}, **fields})


def script(tmp_path: Path, body: str, name: str = "score.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def files(tmp_path: Path, count: int) -> Path:
    """f000.txt… with the odd ones in sub/: in path order f000, f002, …, sub/f001, sub/f003, …"""
    folder = tmp_path / "files"
    for i in range(count):
        (folder / ("sub" if i % 2 else "")).mkdir(parents=True, exist_ok=True)
        (folder / ("sub" if i % 2 else "") / f"f{i:03d}.txt").write_text(str(i))
    return folder


# -- settings -------------------------------------------------------------------------------------
def test_settings_read_azure_references_counts_and_sizes():
    s = ParallelSettings.model_validate(
        {
            "input_data": "${{inputs.images}}",
            "mini_batch_size": "100",
            "logging_level": "debug",
            "task": {"entry_script": "score.py", "append_row_to": "${{ outputs.scores }}"},
        }
    )
    assert (s.input_data, s.task.append_row_to, s.logging_level) == ("images", "scores", "DEBUG")
    assert (s.batch_count(), s.batch_bytes()) == (100, None)
    assert settings(Path("s.py"), mini_batch_size="1.5 KB").batch_bytes() == 1536
    assert (s.retry_settings.max_retries, s.retry_settings.timeout, s.mini_batch_error_threshold) == (
        3,
        60,
        -1,
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"mini_batch_size": "1 parsec"}, "a size of table"),
        ({"mini_batch_size": 0}, "at least 1"),
        ({"mini_batch_size": 5, "partition_keys": ["a"]}, "not both"),
        ({"partition_keys": []}, "at least one column"),
        ({"mini_batch_error_threshold": -2}, "greater than or equal to -1"),
        ({"retry_settings": {"timeout": 0}}, "greater than 0"),
        ({"resources": {"instance_count": 0}}, "greater than or equal to 1"),
        ({"input_data": "${{outputs.x}}"}, "inputs.NAME"),
        ({"mini_batch_sise": 5}, "Extra inputs"),
    ],
)
def test_bad_settings_name_the_field(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        parallel_command_job({"task": {"entry_script": "s.py"}, **fields}, {})


def test_parallel_command_job_runs_the_runner_on_the_input_and_output():
    job = parallel_command_job(
        {
            "input_data": "${{inputs.data}}",
            "mini_batch_size": "2",
            "task": {
                "code": "src",
                "entry_script": "score.py",
                "program_arguments": "--model ${{inputs.model}} --n 3",
                "append_row_to": "${{outputs.scores}}",
            },
        },
        {"data": {"type": "table", "path": "/d/t.csv"}, "model": {"type": "uri_folder", "path": "/m"}},
        {"scores": {"type": "uri_folder"}},
        experiment_name="batch",
        compute="local",
    )
    argv = job.argv()
    assert argv[:4] == ["python", "-m", "trainyard.parallel.runner", "--settings"]
    assert argv[5:] == [
        "--input", "/d/t.csv", "--kind", "table", "--output", "outputs/scores",
        "--", "--model", "/m", "--n", "3",
    ]  # fmt: skip
    assert ParallelSettings.model_validate_json(argv[4]).batch_count() == 2
    assert (job.code, job.experiment_name) == ("src", "batch")
    with pytest.raises(InvalidInputError, match="input_data names input 'other'.*inputs: data"):
        parallel_command_job(
            {"input_data": "other", "task": {"entry_script": "s.py"}}, {"data": {"path": "/d"}}
        )
    with pytest.raises(InvalidInputError, match="append_row_to names output 'x'"):
        parallel_command_job(
            {"input_data": "data", "task": {"entry_script": "s.py", "append_row_to": "x"}},
            {"data": {"path": "/d"}},
        )
    with pytest.raises(InvalidInputError, match="is a value"):
        parallel_command_job({"input_data": "n", "task": {"entry_script": "s.py"}}, {"n": 3})


def test_a_type_parallel_file_loads_as_the_command_job(tmp_path):
    from trainyard.jobs.spec import load_job

    (tmp_path / "src").mkdir()
    (tmp_path / "data").mkdir()
    spec = tmp_path / "parallel.yml"
    spec.write_text(
        textwrap.dedent("""
        type: parallel
        experiment_name: score
        inputs:
          images: {type: uri_folder, path: ./data}
        outputs:
          scores: {type: uri_folder}
        input_data: ${{inputs.images}}
        mini_batch_size: 3
        max_concurrency_per_instance: 2
        task:
          type: run_function
          code: ./src
          entry_script: score.py
          append_row_to: ${{outputs.scores}}
        """)
    )
    job = load_job(spec)
    assert job.code == str(tmp_path / "src") and job.experiment_name == "score"
    assert job.argv()[5:] == ["--input", str(tmp_path / "data"), "--output", "outputs/scores"]
    spec.write_text(spec.read_text().replace("mini_batch_size: 3", "mini_batch_size: many"))
    with pytest.raises(
        InvalidInputError, match=r"parallel.yml is not a valid job spec: mini_batch_size: .*'many'"
    ):
        load_job(spec)


# -- splitting ------------------------------------------------------------------------------------
def test_a_folder_splits_into_sorted_files(tmp_path):
    batches = split(files(tmp_path, 7), settings(Path("s.py"), mini_batch_size=3))
    assert [b.size for b in batches] == [3, 3, 1]
    names = [Path(p).relative_to(tmp_path / "files").as_posix() for b in batches for p in b.data]
    assert names == sorted(names) and len(names) == 7
    assert batches[1].label.startswith("#1 (") and batches[1].context.minibatch_index == 1
    with pytest.raises(InvalidInputError, match="number of files"):
        split(tmp_path / "files", settings(Path("s.py"), mini_batch_size="1mb"))
    with pytest.raises(InvalidInputError, match="folder of files"):
        split(tmp_path / "files", settings(Path("s.py"), partition_keys=["a"]))


def test_a_table_splits_into_rows_sizes_and_partitions(tmp_path):
    frame = pd.DataFrame({"region": ["b", "a", "b", "c"] * 25, "x": range(100)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    rows = split(tmp_path / "t.csv", settings(Path("s.py"), mini_batch_size=30))
    assert [b.size for b in rows] == [30, 30, 30, 10] and rows[3].label == "#3 (rows 90-99)"
    assert list(rows[1].data["x"]) == list(range(30, 60))
    per_row = (tmp_path / "t.csv").stat().st_size / 100
    by_size = split(tmp_path / "t.csv", settings(Path("s.py"), mini_batch_size=f"{int(per_row * 20)}b"))
    assert 15 <= by_size[0].size <= 20
    parts = split(tmp_path / "t.csv", settings(Path("s.py"), partition_keys=["region"]))
    assert [b.context.partition_key_value for b in parts] == [
        {"region": "a"},
        {"region": "b"},
        {"region": "c"},
    ]
    assert [b.size for b in parts] == [25, 50, 25] and set(parts[1].data["region"]) == {"b"}
    with pytest.raises(InvalidInputError, match="no column nope"):
        split(tmp_path / "t.csv", settings(Path("s.py"), partition_keys=["nope"]))
    folder = tmp_path / "table"  # a folder holding the table (a pipeline step's table output)
    folder.mkdir()
    frame.to_parquet(folder / "data.parquet")
    assert [b.size for b in split(folder, settings(Path("s.py"), mini_batch_size=40), "table")] == [
        40,
        40,
        20,
    ]


# -- output ---------------------------------------------------------------------------------------
def test_what_run_returns_becomes_lines():
    assert result_lines(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})) == ("1,x\n2,y\n", 2)
    assert result_lines(["one", ("a", 1), {"k": "v,w"}, 3.5]) == ('one\na,1\n"v,w"\n3.5\n', 4)
    with pytest.raises(TypeError, match="returned NoneType"):
        result_lines(None)


def test_the_output_appears_whole_or_not_at_all(tmp_path):
    parts, out = tmp_path / "parts", tmp_path / "out"
    parts.mkdir()
    write_part(parts, 0, "a\n")
    write_part(parts, 2, "c\n")
    out.mkdir()
    (out / "parallel_run_step.txt").write_text("old\n")
    with pytest.raises(FileNotFoundError):  # part 1 is missing: nothing replaces the old file
        assemble(parts, [0, 1, 2], out)
    assert sorted(p.name for p in out.iterdir()) == ["parallel_run_step.txt"]
    assert (out / "parallel_run_step.txt").read_text() == "old\n"
    assert assemble(parts, [0, 2], out).read_text() == "a\nc\n"


def test_progress_reports_every_ten_percent_with_metrics():
    out, logged = io.StringIO(), []
    with Progress(20, logged.append, out=out) as progress:
        for done in range(1, 21):
            progress.update(done, 0, done * 5)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[parallel] 0%") and lines[-1].startswith("[parallel] 100%: 20/20")
    assert len(lines) == 11 and len(logged) == 11
    assert logged[-1] == {"mini_batches_completed": 20, "mini_batches_failed": 0, "rows_processed": 100}
    bar, logged = io.StringIO(), []
    with Progress(20, logged.append, out=bar, bar=True) as progress:  # a terminal: a Rich bar instead
        for done in range(20):
            progress.update(done, 1, done)
    assert "[parallel]" not in bar.getvalue() and "20/20" in bar.getvalue()
    assert len(logged) == 11 and logged[-1]["mini_batches_failed"] == 1


# -- the runner -----------------------------------------------------------------------------------
def test_rows_come_out_in_mini_batch_order_whoever_finishes_first(tmp_path):
    entry = script(
        tmp_path,
        """
        import os, time
        def init():
            global pid
            pid = os.getpid()
        def run(mini_batch):
            if any(p.endswith("f000.txt") for p in mini_batch):
                time.sleep(1.0)  # the first mini-batch finishes last
            return [f"{os.path.basename(p)},{open(p).read()}" for p in mini_batch]
        """,
    )
    outcome = run_parallel(
        settings(entry, mini_batch_size=2, max_concurrency_per_instance=2),
        files(tmp_path, 9),
        tmp_path / "out",
    )
    assert (len(outcome.completed), outcome.rows, outcome.failed) == (5, 9, [])
    lines = (tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines()
    expected = [Path(p).name for b in split(tmp_path / "files", settings(entry)) for p in b.data]
    assert [line.split(",")[0] for line in lines] == expected


def test_a_failed_try_is_retried(tmp_path):
    entry = script(
        tmp_path,
        f"""
        import os
        from pathlib import Path
        MARKER = Path({str(tmp_path / "failed-once")!r})
        def run(mini_batch):
            if any(p.endswith("f003.txt") for p in mini_batch) and not MARKER.exists():
                MARKER.write_text("x")
                raise RuntimeError("first try of batch 2 fails")
            return [os.path.basename(p) for p in mini_batch]
        """,
    )
    s = settings(entry, mini_batch_size=2, retry_settings={"max_retries": 1}, mini_batch_error_threshold=0)
    outcome = run_parallel(s, files(tmp_path, 6), tmp_path / "out")
    assert (tmp_path / "failed-once").exists() and outcome.failed == []
    assert len((tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines()) == 6


def test_a_hung_mini_batch_times_out_and_its_worker_is_replaced(tmp_path):
    entry = script(
        tmp_path,
        """
        import os, time
        def run(mini_batch):
            if any(p.endswith("f004.txt") for p in mini_batch):
                time.sleep(60)
            return [os.path.basename(p) for p in mini_batch]
        """,
    )
    s = settings(entry, mini_batch_size=2, retry_settings={"max_retries": 1, "timeout": 1})
    outcome = run_parallel(s, files(tmp_path, 6), tmp_path / "out")
    assert [(f.batch.index, f.tries) for f in outcome.failed] == [(1, 2)]
    assert "timed out after 1s" in outcome.failed[0].reason
    lines = (tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines()
    assert lines == ["f000.txt", "f002.txt", "f003.txt", "f005.txt"]  # batch 1 (f004, sub/f001) lost


def test_more_failures_than_the_threshold_fail_the_job_naming_them(tmp_path):
    entry = script(
        tmp_path,
        """
        import os
        def run(frame):
            if frame["x"].iloc[0] in (10, 30):
                raise ValueError(f"bad rows from {frame['x'].iloc[0]}")
            if frame["x"].iloc[0] == 20:
                os._exit(7)
            return frame
        """,
    )
    pd.DataFrame({"x": range(50)}).to_csv(tmp_path / "t.csv", index=False)
    s = settings(entry, mini_batch_size=10, retry_settings={"max_retries": 0}, mini_batch_error_threshold=2)
    s = s.model_copy(update={"max_concurrency_per_instance": 2})
    with pytest.raises(ParallelJobError) as caught:
        run_parallel(s, tmp_path / "t.csv", tmp_path / "out")
    message = str(caught.value)
    assert "3 of 5 mini-batches failed, more than mini_batch_error_threshold 2" in message
    assert "#1 (rows 10-19): ValueError: bad rows from 10" in message
    assert "#2 (rows 20-29): the worker process died (exit code 7)" in message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    ok = run_parallel(
        s.model_copy(update={"mini_batch_error_threshold": -1}), tmp_path / "t.csv", tmp_path / "o2"
    )
    assert len(ok.failed) == 3 and (tmp_path / "o2" / "parallel_run_step.txt").read_text().count("\n") == 20


def test_partition_values_and_program_arguments_reach_the_script(tmp_path):
    entry = script(
        tmp_path,
        """
        import argparse
        def init():
            global args
            args = argparse.ArgumentParser()
            args.add_argument("--tag")
            args = args.parse_args()
        def run(mini_batch, mini_batch_context):
            key = mini_batch_context.partition_key_value["g"]
            return [f"{args.tag},{key},{len(mini_batch)}"]
        """,
    )
    pd.DataFrame({"g": [2, 1, 2, 3], "v": range(4)}).to_parquet(tmp_path / "t.parquet")
    run_parallel(
        settings(entry, partition_keys=["g"]), tmp_path / "t.parquet", tmp_path / "out", ["--tag", "T"]
    )
    assert (tmp_path / "out" / "parallel_run_step.txt").read_text() == "T,1,1\nT,2,2\nT,3,1\n"


def test_an_entry_script_that_cannot_start_fails_the_job(tmp_path):
    entry = script(tmp_path, "def init():\n    raise KeyError('model.pkl')\ndef run(b):\n    return b\n")
    with pytest.raises(
        ParallelJobError, match=r"failed to start \(import or init\(\)\): KeyError: 'model.pkl'"
    ):
        run_parallel(settings(entry), files(tmp_path, 2))
    norun = script(tmp_path, "x = 1\n", "norun.py")
    with pytest.raises(ParallelJobError, match="has no run"):
        run_parallel(settings(norun), tmp_path / "files")
    with pytest.raises(ParallelJobError, match="entry script nope.py not found"):
        run_parallel(settings(Path("nope.py")), tmp_path / "files")


def test_more_than_one_instance_off_a_ray_target_is_refused_before_any_worker_starts(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    entry = script(tmp_path, ECHO)
    with pytest.raises(ParallelJobError) as caught:
        run_parallel(settings(entry, resources={"instance_count": 2}), files(tmp_path, 2), tmp_path / "out")
    assert str(caught.value) == (
        "resources.instance_count is 2, but this parallel job runs on one machine (not on a Ray "
        "target); give instance_count: 1, or compute: a Ray target"
    )
    assert not (tmp_path / "out").exists()
    # the count reaches the runner in --settings (it is the settings', not the command job's)
    assert json.loads(settings(entry, resources={"instance_count": 3}).runner_json())["resources"] == {
        "instance_count": 3
    }


def test_workers_run_in_the_runners_folder(tmp_path, monkeypatch):
    """The fork server may have started elsewhere (an earlier job of this process)."""
    monkeypatch.chdir(tmp_path)
    script(tmp_path, "def run(b):\n    return [open('side.txt').read()] * len(b)\n")
    (tmp_path / "side.txt").write_text("here")
    run_parallel(settings(Path("score.py")), files(tmp_path, 2), Path("out"))
    assert (tmp_path / "out" / "parallel_run_step.txt").read_text() == "here\nhere\n"


def test_a_stop_ends_the_job_with_no_output(tmp_path):
    import threading

    entry = script(tmp_path, "import time\ndef run(b):\n    time.sleep(30)\n    return b\n")
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    with pytest.raises(ParallelJobStopped, match="stopped after 0 of 1"):
        run_parallel(settings(entry), files(tmp_path, 2), tmp_path / "out", stop=stop)
    assert not (tmp_path / "out").exists()


def gone(pid: int) -> bool:
    """Exited (a zombie no one has reaped yet counts: it runs nothing)."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" in status.read_text()
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_or_killed_runner_leaves_no_worker_behind(tmp_path, sig):
    entry = script(
        tmp_path,
        f"""
        import os, time
        def init():
            open(os.path.join({str(tmp_path)!r}, f"worker-{{os.getpid()}}"), "w").close()
        def run(b):
            time.sleep(60)
        """,
    )
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("TRAINYARD_RUN_ID", None)
    given = {"task": {"entry_script": str(entry)}, "max_concurrency_per_instance": 2, "mini_batch_size": 1}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainyard.parallel.runner", "--settings", json.dumps(given),
         "--input", str(files(tmp_path, 4)), "--output", str(tmp_path / "out")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("worker-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
    assert len(pids) == 2
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    if sig == signal.SIGTERM:  # the runner stops its workers and says so
        assert proc.returncode == 128 + signal.SIGTERM, out
        assert "error: stopped after 0 of 4 mini-batches" in out.splitlines()[-1]
        assert all(gone(pid) for pid in pids)
    deadline = time.monotonic() + 10  # killed outright: the workers see their lifeline close
    while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(gone(pid) for pid in pids)
    assert not (tmp_path / "out").exists()


def test_bad_runner_settings_are_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-m", "trainyard.parallel.runner", "--settings", '{"task": {}}', "--input", "."],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: --settings: task.entry_script: Field required"


def test_the_documented_parallel_job_loads_and_its_script_runs(tmp_path):
    from trainyard.jobs.spec import load_job

    doc = (SRC.parent / "docs" / "pipelines.md").read_text().split("## Parallel jobs")[1]
    job_yaml = doc.split("```yaml\n")[1].split("```")[0]
    entry = doc.split("```python\n")[1].split("```")[0]
    for folder in ("images", "model", "src"):
        (tmp_path / folder).mkdir()
    for i in range(3):
        (tmp_path / "images" / f"{i}.jpg").write_bytes(b"x" * (i + 1))
    (tmp_path / "src" / "score.py").write_text(entry)
    (tmp_path / "parallel.yml").write_text(job_yaml)
    argv = load_job(tmp_path / "parallel.yml").argv()
    assert argv[5:] == [
        "--input", str(tmp_path / "images"), "--output", "outputs/scores",
        "--", "--model", str(tmp_path / "model"),
    ]  # fmt: skip
    s = ParallelSettings.model_validate_json(argv[4])
    assert (s.batch_count(), s.max_concurrency_per_instance, s.mini_batch_error_threshold) == (10, 4, 2)
    s = s.model_copy(
        update={"task": s.task.model_copy(update={"entry_script": str(tmp_path / "src" / "score.py")})}
    )
    run_parallel(s, tmp_path / "images", tmp_path / "out", argv[argv.index("--") + 1 :])
    assert (tmp_path / "out" / "parallel_run_step.txt").read_text() == "0.jpg,1\n1.jpg,2\n2.jpg,3\n"
