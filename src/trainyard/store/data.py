"""The data part of the Store: versions of data assets and the lineage of runs that read or wrote them.

Contract, beyond each method's docstring: version numbers count up per name from 1 and two
processes creating at once get distinct numbers. A create whose content hash equals the name's
latest version returns that version instead of making a new one. A version's record is written
after its files, so a version that can be read has all of them.
"""

from __future__ import annotations

import abc
from typing import Any

from trainyard.store.records import DataLineage, DataVersion


class DataStore(abc.ABC):
    """Data asset versions and lineage. See the module docstring for the contract."""

    @abc.abstractmethod
    def create_data_version(
        self,
        name: str,
        *,
        type: str,
        content_hash: str,
        size_bytes: int,
        file_count: int,
        prefix: str | None = None,
        uri: str | None = None,
        datastore: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        table: dict[str, Any] | None = None,
        created_by_run: str | None = None,
    ) -> DataVersion:
        """The next version of ``name``, or the latest one when its ``content_hash`` is the same; race-safe.

        Exactly one of ``prefix`` (files under it in ``datastore``, default the workspace's
        artifact store) and ``uri`` (a local reference). ``InvalidInputError`` for a bad name,
        type or tag; ``NotFoundError`` for an unknown run or datastore.
        """

    @abc.abstractmethod
    def get_data_version(self, name: str, version: int | None = None) -> DataVersion:
        """Version ``version`` of ``name``, else its latest not archived; ``NotFoundError`` if none."""

    @abc.abstractmethod
    def list_data_versions(self, name: str | None = None) -> list[DataVersion]:
        """Every version of ``name`` newest first, or the latest version of every name, by name."""

    @abc.abstractmethod
    def set_data_version_archived(self, name: str, version: int, archived: bool) -> DataVersion:
        """Archive (hidden from ``@latest``, still readable by number) or restore a version."""

    @abc.abstractmethod
    def record_data_lineage(self, run_id: str, name: str, version: int, direction: str) -> None:
        """Record that ``run_id`` read or wrote a version (once per triple); ``NotFoundError`` if unknown."""

    @abc.abstractmethod
    def list_data_lineage(
        self, *, run_id: str | None = None, name: str | None = None, version: int | None = None
    ) -> list[DataLineage]:
        """The lineage rows matching every filter given, by run, name and version."""
