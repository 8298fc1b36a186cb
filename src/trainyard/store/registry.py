"""The registry part of the Store: registered models, their versions and aliases.

Contract, beyond each method's docstring: version numbers count up per name from 1, are never
given twice (a deleted version's number included), and two processes registering at once get
distinct numbers. A version that a deployment serves is not deleted.
"""

from __future__ import annotations

import abc

from trainyard.store.records import ModelVersion, RegisteredModel


class RegistryStore(abc.ABC):
    """Models, versions and aliases. See the module docstring for the contract."""

    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        files: list[str],
        run_id: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersion:
        """The next version of ``name`` (1 for a new name, which is registered with it); race-safe.

        ``InvalidInputError`` for a bad model name, tag or property.
        """

    @abc.abstractmethod
    def create_registered_model(
        self, name: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """A name with no versions yet; ``AlreadyExistsError`` if taken, ``InvalidInputError`` if bad."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model named ``name`` with its aliases; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def update_registered_model(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Rename (versions and aliases follow), describe, set tags (``None`` deletes the tag).

        Version files keep their artifact keys, so a renamed model's versions still load.
        Returns the model after the change. ``NotFoundError`` for an unknown name,
        ``AlreadyExistsError`` when ``new_name`` is taken, ``InvalidInputError`` for a bad name
        or tag.
        """

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Remove the name with its versions and aliases.

        ``NotFoundError`` for an unknown name; ``InvalidInputError`` while a deployment serves
        one of its versions.
        """

    @abc.abstractmethod
    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> ModelVersion:
        """Describe a version and set its tags (``None`` deletes the tag); returns it after the change.

        ``NotFoundError`` for an unknown version, ``InvalidInputError`` for a bad tag.
        """

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int) -> None:
        """Remove one version and its aliases; its number is never given again.

        ``NotFoundError`` for an unknown version; ``InvalidInputError`` while a deployment serves it.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """Version ``version`` of ``name``; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at; ``NotFoundError`` if the alias is not set."""

    @abc.abstractmethod
    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, newest first (none for a name created without versions)."""

    @abc.abstractmethod
    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""

    @abc.abstractmethod
    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``, moving it off any other version of ``name``.

        ``NotFoundError`` for an unknown version; ``InvalidInputError`` for a bad alias (one
        that is a number or ``latest``).
        """

    @abc.abstractmethod
    def delete_model_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` from ``name``; ``NotFoundError`` if it is not set."""

    @abc.abstractmethod
    def set_model_version_status(self, name: str, version: int, status: str) -> ModelVersion:
        """``ready`` or ``archived``; an archived version keeps its files and can be restored.

        ``NotFoundError`` for an unknown version, ``InvalidInputError`` for another status.
        """
