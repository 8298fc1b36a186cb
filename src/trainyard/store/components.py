"""The components part of the Store: versions of registered command components.

Contract, beyond each method's docstring: a version is a string. A create without one numbers
it (the name's highest whole-number version plus one, from 1), and two processes creating at once
get distinct numbers. A create whose ``content_hash`` equals a version of the name returns that
version instead of making one: with no version given, the newest such version; with one given,
that version if its hash is the same, else an ``InvalidInputError`` naming the name and the
version. "Newest" is the order of creation, whatever the versions are called.
"""

from __future__ import annotations

import abc
from typing import Any

from trainyard.store.records import ComponentVersion


class ComponentStore(abc.ABC):
    """Registered command components. See the module docstring for the contract."""

    @abc.abstractmethod
    def create_component_version(
        self,
        name: str,
        *,
        version: str | None,
        spec: dict[str, Any],
        content_hash: str,
        snapshot_id: str | None = None,
    ) -> ComponentVersion:
        """Version ``version`` of ``name`` (numbered when ``None``), or the one with this content.

        ``InvalidInputError`` for a bad name or version, or a version that exists with other content.
        """

    @abc.abstractmethod
    def get_component_version(self, name: str, version: str | None = None) -> ComponentVersion:
        """Version ``version`` of ``name``, else its newest not archived; ``NotFoundError`` if none."""

    @abc.abstractmethod
    def list_component_versions(self, name: str | None = None) -> list[ComponentVersion]:
        """Every version of ``name`` newest first (``NotFoundError`` if none), or the newest version
        not archived of every name, by name."""

    @abc.abstractmethod
    def set_component_version_archived(self, name: str, version: str, archived: bool) -> ComponentVersion:
        """Archive (hidden from the newest and from the list of names, still readable by version) or
        restore a version; ``NotFoundError`` if it does not exist."""
