"""The published-pipelines part of the Store: versions of prepared pipelines under a named
endpoint, and the schedules that run them unattended.

Contract, beyond each method's docstring: version numbers count up per name from 1 and two
processes publishing at once get distinct numbers; an endpoint's first version is its default
until ``set_pipeline_default`` names another. A schedule's due time is claimed by
compare-and-set on ``next_fire`` (``claim_schedule_fire``): of any number of schedulers claiming
the same due time, across processes and restarts, exactly one gets it, and the claim writes its
firing record in the same transaction, so every claimed time is on record.
"""

from __future__ import annotations

import abc
from typing import Any

from trainyard.store.records import PipelineEndpoint, PublishedPipeline, Schedule, ScheduleFiring


class PipelineStore(abc.ABC):
    """Published pipelines, their endpoints and schedules. See the module docstring for the contract."""

    @abc.abstractmethod
    def publish_pipeline(
        self,
        name: str,
        pipeline: dict[str, Any],
        *,
        description: str | None = None,
        make_default: bool = False,
    ) -> PublishedPipeline:
        """The next version of ``name`` holding ``pipeline`` (its endpoint made on the first); race-safe.

        ``make_default`` makes it the endpoint's default version. ``InvalidInputError`` for a bad name.
        """

    @abc.abstractmethod
    def get_published_pipeline(self, name: str, version: int | None = None) -> PublishedPipeline:
        """Version ``version`` of ``name``, else its default; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def list_published_pipelines(self, name: str) -> list[PublishedPipeline]:
        """Every version of ``name``, newest first; ``NotFoundError`` for an unknown name."""

    @abc.abstractmethod
    def get_pipeline_endpoint(self, name: str) -> PipelineEndpoint:
        """The endpoint ``name``; ``NotFoundError`` naming how to list them."""

    @abc.abstractmethod
    def list_pipeline_endpoints(self) -> list[PipelineEndpoint]:
        """Every pipeline endpoint, by name."""

    @abc.abstractmethod
    def set_pipeline_default(self, name: str, version: int) -> PipelineEndpoint:
        """Make ``version`` the default of ``name``; ``NotFoundError`` for an unknown name or version."""

    @abc.abstractmethod
    def create_schedule(
        self,
        name: str,
        *,
        pipeline: str,
        trigger: str,
        spec: str,
        next_fire: float,
        inputs: dict[str, str] | None = None,
        missed: str = "run-once",
        watermark: str | None = None,
        poll_seconds: float | None = None,
    ) -> Schedule:
        """A new enabled schedule of the published pipeline ``pipeline``, first due at ``next_fire``.

        The caller has checked ``spec`` for its ``trigger``. ``AlreadyExistsError`` for a taken
        name, ``NotFoundError`` for an unknown pipeline, ``InvalidInputError`` for a bad name,
        trigger, missed policy or input.
        """

    @abc.abstractmethod
    def get_schedule(self, name: str) -> Schedule:
        """The schedule ``name``; ``NotFoundError`` naming how to list them."""

    @abc.abstractmethod
    def list_schedules(self) -> list[Schedule]:
        """Every schedule, by name."""

    @abc.abstractmethod
    def set_schedule_enabled(self, name: str, enabled: bool, *, next_fire: float | None = None) -> Schedule:
        """Enable or disable ``name``; ``next_fire``, when given, is its next due time."""

    @abc.abstractmethod
    def delete_schedule(self, name: str) -> None:
        """Delete ``name`` and its firings; ``NotFoundError`` if there is no such schedule."""

    @abc.abstractmethod
    def claim_schedule_fire(
        self,
        name: str,
        *,
        due: float,
        next_fire: float,
        action: str,
        missed: int = 0,
        watermark: str | None = None,
    ) -> ScheduleFiring | None:
        """Move an enabled ``name`` from ``due`` to ``next_fire`` if its next fire is still ``due``,
        recording the firing (``action`` ``run`` or ``skip``); ``None`` if another claimed it first.

        ``watermark``, when given, replaces the schedule's in the same write.
        """

    @abc.abstractmethod
    def finish_schedule_firing(
        self, firing_id: int, *, run_id: str | None = None, error: str | None = None
    ) -> ScheduleFiring:
        """Record what a claimed firing did: the run it queued or why it could not."""

    @abc.abstractmethod
    def list_schedule_firings(self, name: str, *, limit: int = 20) -> list[ScheduleFiring]:
        """The latest ``limit`` firings of ``name``, newest first; ``NotFoundError`` for an unknown name."""
