"""What may name a compute target: a stored target's file and a server's agent queue alike."""

from __future__ import annotations

import os
import re

from trainyard.errors import InvalidInputError

TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_target_name(name: str) -> str:
    """``name`` if it can name a queue of a server workspace, else ``InvalidInputError``."""
    if not TARGET_NAME.match(name):
        raise InvalidInputError(
            f"compute target {name!r}: up to 64 letters, digits and . _ - (first a letter or digit)"
        )
    return name


# Set in a Ray job's environment by its run's worker (``ray_worker.py``): the name of the Ray
# target the job runs on. A command that spreads its own work over the cluster (the parallel
# runner's Ray actors, a sweep's or many-models driver's tasks) reads it, and words its errors with it.
RAY_TARGET_VAR = "TRAINYARD_RAY_TARGET"


def in_ray_job_on(target: str) -> bool:
    """Whether this process is the driver of a Ray job on the Ray target ``target`` (Ray sets
    ``RAY_ADDRESS`` for a job's driver): a driver whose children go to the target its own job runs
    on runs them as Ray tasks of that job. Read from the job's environment, not from the
    workspace's targets: a server workspace's jobs reach Ray through an agent (``agent --ray``),
    and its compute names are the agents' queues."""
    return bool(os.environ.get("RAY_ADDRESS")) and os.environ.get(RAY_TARGET_VAR) == target
