"""The conformance suite of the registry part: models, versions counted per name, aliases, updates."""

from __future__ import annotations

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.base import Store
from trainyard.testing.store_suite_common import (
    _together,
)


class RegistrySuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_model_versions_count_up_per_name(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("reg").id)
        one = store.create_model_version(
            "diabetes",
            source=f"runs/{run.id}/outputs",
            files=["model.pkl"],
            run_id=run.id,
            tags={"algo": "ridge"},
            properties={"r2": 0.4},  # type: ignore[dict-item]  # a number is stored as its text
        )
        two = store.create_model_version("diabetes", source="upload", files=["a", "b"])
        other = store.create_model_version("iris", source="upload", files=["m"])
        assert (one.version, two.version, other.version) == (1, 2, 1)
        assert one.run_id == run.id and one.tags == {"algo": "ridge"} and one.properties == {"r2": "0.4"}
        assert store.get_model_version("diabetes", 2).files == ["a", "b"]
        assert [v.version for v in store.list_model_versions("diabetes")] == [2, 1]
        assert [(m.name, m.latest_version) for m in store.list_models()] == [("diabetes", 2), ("iris", 1)]
        with pytest.raises(NotFoundError):
            store.get_model_version("diabetes", 3)
        with pytest.raises(NotFoundError):
            store.list_model_versions("nope")
        with pytest.raises(NotFoundError):
            store.create_model_version("x", source="s", files=["f"], run_id="0" * 32)
        for bad in ("", "../x", "a b", "x" * 300):
            with pytest.raises(InvalidInputError):
                store.create_model_version(bad, source="s", files=["f"])
        with pytest.raises(InvalidInputError, match="no files"):
            store.create_model_version("empty", source="s", files=[])

    def test_concurrent_model_registrations_get_distinct_versions(self, store: Store) -> None:
        got = _together(6, lambda i: store.create_model_version("race", source="s", files=[f"f{i}"]).version)
        assert sorted(got) == [1, 2, 3, 4, 5, 6]

    def test_model_aliases_move_between_versions(self, store: Store) -> None:
        for _ in range(2):
            store.create_model_version("m", source="s", files=["f"])
        store.set_model_alias("m", "production", 1)
        store.set_model_alias("m", "staging", 2)
        assert store.get_model_version_by_alias("m", "production").version == 1
        store.set_model_alias("m", "production", 2)
        assert store.get_model_version_by_alias("m", "production").version == 2
        assert store.get_model_version("m", 2).aliases == ["production", "staging"]
        assert store.get_model_version("m", 1).aliases == []
        assert store.list_models()[0].aliases == {"production": 2, "staging": 2}
        store.delete_model_alias("m", "staging")
        with pytest.raises(NotFoundError):
            store.get_model_version_by_alias("m", "staging")
        with pytest.raises(NotFoundError):
            store.set_model_alias("m", "production", 7)
        for bad in ("latest", "3", "has space", ""):
            with pytest.raises(InvalidInputError):
                store.set_model_alias("m", bad, 1)

    def test_model_versions_archive_and_restore(self, store: Store) -> None:
        store.create_model_version("m", source="s", files=["f"])
        assert store.set_model_version_status("m", 1, "archived").status == "archived"
        assert store.set_model_version_status("m", 1, "ready").status == "ready"
        with pytest.raises(InvalidInputError):
            store.set_model_version_status("m", 1, "deleted")

    def test_a_registered_model_exists_before_its_first_version(self, store: Store) -> None:
        made = store.create_registered_model("empty", description="soon", tags={"team": "x"})
        assert (made.name, made.latest_version, made.description, made.tags) == (
            "empty",
            0,
            "soon",
            {"team": "x"},
        )
        assert store.get_registered_model("empty") == made
        assert store.list_model_versions("empty") == []
        assert [m.name for m in store.list_models()] == ["empty"]
        with pytest.raises(AlreadyExistsError):
            store.create_registered_model("empty")
        with pytest.raises(InvalidInputError):
            store.create_registered_model("a b")
        with pytest.raises(NotFoundError):
            store.get_registered_model("nope")
        assert store.create_model_version("empty", source="s", files=["f"]).version == 1
        assert store.get_registered_model("empty").latest_version == 1

    def test_registered_models_are_described_and_tagged(self, store: Store) -> None:
        store.create_model_version("m", source="s", files=["f"])
        assert store.update_registered_model("m", description="ridge").description == "ridge"
        store.update_registered_model("m", tags={"a": "1", "b": "2"})
        changed = store.update_registered_model("m", tags={"a": None, "b": "two"})
        assert (changed.description, changed.tags) == ("ridge", {"b": "two"})
        with pytest.raises(NotFoundError):
            store.update_registered_model("nope", description="x")

    def test_a_renamed_model_takes_its_versions_and_aliases(self, store: Store) -> None:
        for _ in range(2):
            store.create_model_version("old", source="s", files=["models/old/u/f"], tags={"k": "v"})
        store.set_model_alias("old", "production", 2)
        store.create_registered_model("taken")
        renamed = store.update_registered_model("old", new_name="new", description="d")
        assert (renamed.name, renamed.latest_version, renamed.aliases) == ("new", 2, {"production": 2})
        assert store.get_model_version_by_alias("new", "production").files == ["models/old/u/f"]
        assert store.get_model_version("new", 1).tags == {"k": "v"}
        with pytest.raises(NotFoundError):
            store.get_registered_model("old")
        with pytest.raises(AlreadyExistsError):
            store.update_registered_model("new", new_name="taken")
        with pytest.raises(InvalidInputError):
            store.update_registered_model("new", new_name="../x")
        assert store.create_model_version("new", source="s", files=["f"]).version == 3

    def test_deleting_a_model_deletes_its_versions_and_aliases(self, store: Store) -> None:
        store.create_model_version("m", source="s", files=["f"])
        store.set_model_alias("m", "production", 1)
        store.create_model_version("other", source="s", files=["f"])
        store.delete_registered_model("m")
        assert [m.name for m in store.list_models()] == ["other"]
        for lookup in (
            lambda: store.get_registered_model("m"),
            lambda: store.get_model_version("m", 1),
            lambda: store.get_model_version_by_alias("m", "production"),
            lambda: store.delete_registered_model("m"),
        ):
            with pytest.raises(NotFoundError):
                lookup()
        assert store.create_model_version("m", source="s", files=["f"]).version == 1  # a new model

    def test_model_versions_are_described_tagged_and_deleted(self, store: Store) -> None:
        for _ in range(3):
            store.create_model_version("m", source="s", files=["f"], tags={"a": "1"})
        store.set_model_alias("m", "staging", 3)
        changed = store.update_model_version("m", 2, description="best", tags={"a": None, "b": "2"})
        assert (changed.description, changed.tags) == ("best", {"b": "2"})
        assert store.get_model_version("m", 1).tags == {"a": "1"}
        store.delete_model_version("m", 3)
        assert store.get_registered_model("m").aliases == {}
        assert [v.version for v in store.list_model_versions("m")] == [2, 1]
        assert store.create_model_version("m", source="s", files=["f"]).version == 4  # 3 is never reused
        with pytest.raises(NotFoundError):
            store.delete_model_version("m", 3)
        with pytest.raises(NotFoundError):
            store.update_model_version("m", 3, description="x")

    def test_a_served_version_is_not_deleted(self, store: Store) -> None:
        store.create_model_version("m", source="s", files=["f"])
        store.create_endpoint("ep-one", 18080, "k1", "k2")
        store.create_deployment("ep-one", "blue", "m", 1, 1)
        for delete in (
            lambda: store.delete_model_version("m", 1),
            lambda: store.delete_registered_model("m"),
        ):
            with pytest.raises(InvalidInputError, match="ep-one/blue"):
                delete()
        store.update_registered_model("m", new_name="m2")
        assert store.get_deployment("ep-one", "blue").model_name == "m2"
