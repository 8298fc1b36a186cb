"""``resources: {cpu, gpu, memory}`` of a command job: what a run reserves on a Ray target."""

from __future__ import annotations

import pytest

from trainyard.compute.job import JobResources
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import make_job


@pytest.mark.parametrize(
    ("given", "bytes_"),
    [(1000, 1000), ("10", 10), ("3kb", 3000), ("4GB", 4 * 10**9), ("2G", 2 * 10**9),
     ("512MiB", 512 * 2**20), ("1.5Gi", int(1.5 * 2**30))],
)  # fmt: skip
def test_memory_takes_bytes_or_a_decimal_or_binary_size(given, bytes_):
    assert JobResources(memory=given).memory == bytes_


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"memory": "lots"}, "memory must be bytes or a size like 512MiB"),
        ({"cpu": 0}, "cpu"),
        ({"gpu": -1}, "gpu"),
        ({"cpu": True}, "give a number, not true"),
        ({"cores": 2}, "cores"),
    ],
)
def test_bad_resources_are_refused_naming_the_key(resources, message):
    with pytest.raises(InvalidInputError, match=message):
        make_job(command="python train.py", resources=resources)


def test_a_job_without_resources_reserves_nothing_it_did_not_ask_for():
    assert make_job(command="python train.py").resources == JobResources()


def test_on_a_ray_target_a_parallel_jobs_runner_reserves_no_cpu_its_actors_do():
    from trainyard.compute.job import JobRecord
    from trainyard.compute.ray_worker import job_cpus
    from trainyard.parallel.spec import parallel_command_job

    parallel = parallel_command_job(
        {"input_data": "${{inputs.files}}", "task": {"entry_script": "score.py"}},
        {"files": {"type": "uri_folder", "path": "/data"}},
    )
    record = JobRecord(command=parallel.command, argv=parallel.argv())
    assert job_cpus(record) == 0.0
    assert job_cpus(JobRecord(command="python train.py", argv=["python", "train.py"])) == 1.0
    assert job_cpus(record.model_copy(update={"resources": JobResources(cpu=2)})) == 2.0
