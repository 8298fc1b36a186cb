"""A sweep parent's job record: the driver's command job plus the sweep it runs.

The driver (and a driver restarted after its worker was lost) reads everything it needs from
here: the spec, and the trials' environment as it was resolved when the sweep was submitted.
"""

from __future__ import annotations

from typing import ClassVar

from trainyard.compute.job import JobKind, JobRecord
from trainyard.environments import Environment
from trainyard.sweep.spec import SweepSpec


class SweepRecord(JobRecord):
    kind: ClassVar[JobKind | None] = JobKind.SWEEP

    type: JobKind = JobKind.SWEEP
    uses_slot: bool = False  # the driver mostly waits: it takes no local slot from its trials
    sweep: SweepSpec
    trial_environment: Environment
