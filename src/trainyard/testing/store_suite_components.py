"""The conformance suite of the components part: string versions numbered per name, dedupe by
content, a given version that clashes, archive, concurrent creates."""

from __future__ import annotations

from typing import Any

import pytest

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store.base import Store
from trainyard.store.records import ComponentVersion
from trainyard.testing.store_suite_common import _together

SNAPSHOT = "b" * 64


def _spec(command: str) -> dict[str, Any]:
    return {"type": "command", "name": "x", "command": command, "inputs": {"n": {"type": "integer"}}}


def _make(store: Store, name: str, content: str, version: str | None = None) -> ComponentVersion:
    return store.create_component_version(
        name, version=version, spec=_spec(content), content_hash=content * 64, snapshot_id=SNAPSHOT
    )


class ComponentSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_components_count_up_and_same_content_is_the_same_version(self, store: Store) -> None:
        one = _make(store, "train", "1")
        assert (one.version, one.spec, one.snapshot_id, one.archived) == ("1", _spec("1"), SNAPSHOT, False)
        assert _make(store, "train", "1").version == "1"
        assert _make(store, "train", "2").version == "2"
        assert _make(store, "train", "3", version="0.3-beta").version == "0.3-beta"
        assert _make(store, "train", "4").version == "3"  # after the highest whole number
        assert _make(store, "train", "3").version == "0.3-beta"  # content seen before
        assert store.get_component_version("train").version == "3"  # the newest, by creation
        assert store.get_component_version("train", "0.3-beta").spec == _spec("3")
        assert [v.version for v in store.list_component_versions("train")] == ["3", "0.3-beta", "2", "1"]
        _make(store, "prep", "5", version="7")
        newest = [(v.name, v.version) for v in store.list_component_versions()]
        assert newest == [("prep", "7"), ("train", "3")]

    def test_a_given_version_with_other_content_is_refused_naming_both(self, store: Store) -> None:
        _make(store, "train", "1", version="2")
        assert _make(store, "train", "1", version="2").version == "2"  # the same again: no change
        with pytest.raises(InvalidInputError, match=r"component 'train' version '2' is already registered"):
            _make(store, "train", "9", version="2")
        assert store.get_component_version("train", "2").content_hash == "1" * 64

    def test_component_bad_input_and_missing_versions(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no component 'nope'"):
            store.get_component_version("nope")
        with pytest.raises(NotFoundError, match="version '3'"):
            store.get_component_version("nope", "3")
        with pytest.raises(NotFoundError):
            store.list_component_versions("nope")
        for name, version in (("a b", None), ("x:1", None), ("ok", "latest"), ("ok", "1 2"), ("ok", "")):
            with pytest.raises(InvalidInputError):
                _make(store, name, "1", version=version)
        assert store.list_component_versions() == []

    def test_archived_components_are_skipped_by_the_newest_and_the_list(self, store: Store) -> None:
        _make(store, "m", "1")
        _make(store, "m", "2")
        assert store.set_component_version_archived("m", "2", True).archived
        assert store.get_component_version("m").version == "1"
        assert store.get_component_version("m", "2").archived
        assert [v.version for v in store.list_component_versions()] == ["1"]
        store.set_component_version_archived("m", "1", True)
        assert store.list_component_versions() == []
        with pytest.raises(NotFoundError):
            store.get_component_version("m")
        assert [v.version for v in store.list_component_versions("m")] == ["2", "1"]
        assert not store.set_component_version_archived("m", "2", False).archived
        assert store.get_component_version("m").version == "2"
        with pytest.raises(NotFoundError):
            store.set_component_version_archived("m", "9", True)

    def test_concurrent_component_creates_get_distinct_versions(self, store: Store) -> None:
        got = _together(5, lambda i: _make(store, "race", f"{i}").version)
        assert sorted(got, key=int) == ["1", "2", "3", "4", "5"]
