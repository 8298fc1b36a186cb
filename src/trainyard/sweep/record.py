"""A sweep parent's job record: the driver's command job plus the sweep it runs.

The driver (and a driver restarted after its worker was lost) reads everything it needs from
here: the spec, and the trials' environment as it was resolved when the sweep was submitted.
"""

from __future__ import annotations

import json
from typing import ClassVar

from trainyard.compute.job import JobKind, JobRecord
from trainyard.environments import Environment
from trainyard.jobs.spec import CommandJob
from trainyard.store import RunInfo
from trainyard.sweep.spec import SweepSpec

INTERNAL_TAG = "sweep.internal"  # on each trial: its sampler-side values, to rebuild the study


class SweepRecord(JobRecord):
    kind: ClassVar[JobKind | None] = JobKind.SWEEP

    type: JobKind = JobKind.SWEEP
    uses_slot: bool = False  # the driver mostly waits: it takes no local slot from its trials
    sweep: SweepSpec
    trial_environment: Environment

    def trial_argv(self, trial: RunInfo, job: CommandJob) -> list[str]:
        """The command line of ``trial`` of this sweep for ``job`` (the trial job, perhaps with
        other inputs): with the trial's search-space values, as its driver gave them."""
        internal = json.loads(trial.tags[INTERNAL_TAG])
        values = {name: param.value(internal[name]) for name, param in self.sweep.space.items()}
        return self.sweep.model_copy(update={"trial": job}).trial_argv(values)
