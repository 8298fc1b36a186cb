"""The conformance tests of the Store's update calls: experiments renamed, deleted, restored and
tagged; registered models and versions described, tagged, renamed and deleted.

Mixed into ``trainyard.testing.store_suite.StoreSuite``, so every Store runs them unchanged.
"""

from __future__ import annotations

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.base import Store


class UpdateSuite:
    """Needs the ``store`` fixture of ``StoreSuite``."""

    def test_experiments_rename_and_keep_their_runs(self, store: Store) -> None:
        exp = store.create_experiment("old", tags={"team": "a"})
        run = store.create_run(exp.id)
        store.create_experiment("taken")
        renamed = store.update_experiment(exp.id, name="new")
        assert (renamed.id, renamed.name, renamed.tags) == (exp.id, "new", {"team": "a"})
        assert store.get_experiment_by_name("old") is None
        assert store.get_experiment_by_name("new") == renamed
        assert store.get_run(run.id).experiment_id == exp.id
        with pytest.raises(AlreadyExistsError):
            store.update_experiment(exp.id, name="taken")
        with pytest.raises(InvalidInputError):
            store.update_experiment(exp.id, name="")
        with pytest.raises(NotFoundError):
            store.update_experiment("0" * 32, name="x")

    def test_experiments_delete_softly_and_restore(self, store: Store) -> None:
        exp = store.create_experiment("gone")
        kept = store.create_experiment("kept")
        run = store.create_run(exp.id)
        assert store.update_experiment(exp.id, deleted=True).deleted
        assert store.list_experiments() == [kept]
        assert [e.name for e in store.list_experiments(include_deleted=True)] == ["gone", "kept"]
        assert store.get_experiment(exp.id).deleted and store.get_run(run.id).experiment_id == exp.id
        with pytest.raises(AlreadyExistsError):  # the name stays taken until it is restored
            store.create_experiment("gone")
        assert not store.update_experiment(exp.id, deleted=False).deleted
        assert [e.name for e in store.list_experiments()] == ["gone", "kept"]

    def test_experiment_tags_set_overwrite_and_delete(self, store: Store) -> None:
        exp = store.create_experiment("t", tags={"a": "1", "b": "2"})
        assert store.update_experiment(exp.id, tags={"a": "one", "c": "3"}).tags == {
            "a": "one",
            "b": "2",
            "c": "3",
        }
        assert store.update_experiment(exp.id, tags={"b": None, "missing": None}).tags == {
            "a": "one",
            "c": "3",
        }
        assert store.get_experiment(exp.id).tags == {"a": "one", "c": "3"}
        with pytest.raises(InvalidInputError):
            store.update_experiment(exp.id, tags={"x": "v" * 9000})
        assert store.get_experiment(exp.id).tags == {"a": "one", "c": "3"}

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
