"""Distributed PyTorch jobs on local compute: N ranks of a real DDP script (gloo on CPU)."""

from __future__ import annotations

import os
import textwrap

import pytest

import trainyard as ty
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import load_job, make_job
from trainyard.jobs.submit import submit_job

DDP = """
import os
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from trainyard import Run

dist.init_process_group("gloo")  # reads MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE
rank = dist.get_rank()
print("rank", rank, "world", os.environ["WORLD_SIZE"], "local", os.environ["LOCAL_RANK"], flush=True)
torch.manual_seed(0)
model = DistributedDataParallel(torch.nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.Generator().manual_seed(rank)  # each rank its own batches
run = Run.get_context()
for step in range(3):
    x = torch.randn(8, 4, generator=data)
    loss = torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True))
    opt.zero_grad()
    loss.backward()  # DDP all-reduces the gradients
    opt.step()
    run.log("loss", loss.item())
weights = model.module.weight.detach()
gathered = [torch.zeros_like(weights) for _ in range(dist.get_world_size())]
dist.all_gather(gathered, weights)
assert all(torch.equal(gathered[0], w) for w in gathered), "the ranks' weights differ"
print("weights in sync", flush=True)
dist.destroy_process_group()
"""


def write_spec(src, body):
    path = src / "job.yml"
    path.write_text(textwrap.dedent(body))
    return path


def test_a_ddp_script_trains_on_two_ranks_and_rank_0_logs_the_metrics(ws, script_dir):
    src = script_dir({"train.py": DDP})
    spec = write_spec(
        src,
        """
        code: .
        command: python train.py
        distribution: {type: pytorch, process_count_per_instance: 2}
        resources: {instance_count: 1}
        """,
    )
    run = ty.Run(ws, submit_job(ws, load_job(spec)).id)
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=120)
    log = run.log_text()[0]
    assert details["status"] == "completed", (details, log)
    assert [m.step for m in run.get_metric_history("loss")] == [0, 1, 2]  # once a step, not per rank
    assert "[rank 0] rank 0 world 2 local 0" in log
    assert "[rank 1] rank 1 world 2 local 1" in log
    assert "[rank 0] weights in sync" in log and "[rank 1] weights in sync" in log


def test_a_failing_rank_fails_the_run_and_stops_the_others(ws, script_dir):
    script = """
import os, sys, time
if os.environ["RANK"] == "1":
    print("rank 1 gives up", flush=True)
    sys.exit(1)
print("rank 0 waits", flush=True)
time.sleep(120)
"""
    src = script_dir({"r.py": script})
    job = make_job(code=str(src), command="python r.py", distribution={"process_count_per_instance": 2})
    run = ty.Run(ws, submit_job(ws, job).id)
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=60)
    assert details["status"] == "failed"
    assert details["error"] == "rank 1: exit code 1: rank 1 gives up"
    assert "rank 1 exited with code 1: stopping the other ranks" in run.log_text()[0]


def test_more_than_one_instance_on_local_compute_is_refused_at_submit(ws, script_dir):
    src = script_dir({"train.py": DDP})
    spec = write_spec(
        src,
        """
        command: python train.py
        distribution: {type: pytorch, process_count_per_instance: 2}
        resources: {instance_count: 2}
        """,
    )
    with pytest.raises(InvalidInputError, match="instance_count is 2.*more instances need a cluster"):
        submit_job(ws, load_job(spec))


def test_a_timeout_stops_every_rank(ws, script_dir):
    script = """
import os, time
open(f"{os.environ['PIDS']}/{os.environ['RANK']}.pid", "w").write(str(os.getpid()))
print("rank", os.environ["RANK"], "threads", os.environ["OMP_NUM_THREADS"], "sleeps", flush=True)
time.sleep(120)
"""
    src = script_dir({"s.py": script})
    pids = src.parent / "pids"
    pids.mkdir()
    job = make_job(
        code=str(src),
        command="python s.py",
        distribution={"process_count_per_instance": 2},
        environment={"env_vars": {"PIDS": str(pids), "OMP_NUM_THREADS": "2"}},  # not torchrun's 1
        timeout=3,
    )
    run = ty.Run(ws, submit_job(ws, job).id)
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=60)
    assert details["status"] == "failed" and "timed out after 3s" in details["error"]
    assert "[rank 1] rank 1 threads 2 sleeps" in run.log_text()[0]
    assert sorted(p.name for p in pids.iterdir()) == ["0.pid", "1.pid"]
    for pid_file in pids.iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
