"""The conformance suite of the data part: data versions numbered per name, dedupe, archive, lineage."""

from __future__ import annotations

import pytest

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store.base import Store
from trainyard.testing.store_suite_common import UNKNOWN_ID, _together

HASH = "a" * 64


def _make(store: Store, name: str, content_hash: str = HASH, **extra: object) -> object:
    fields = {"type": "uri_file", "size_bytes": 3, "file_count": 1, "prefix": f"data/{name}/x", **extra}
    return store.create_data_version(name, content_hash=content_hash, **fields)  # type: ignore[arg-type]


class DataSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_data_versions_count_up_and_dedupe_unchanged_content(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("data").id)
        table = {"rows": 2, "columns": [{"name": "x", "dtype": "int64", "min": 1.0, "max": 2.0}]}
        one = store.create_data_version(
            "churn",
            type="table",
            content_hash="1" * 64,
            size_bytes=10,
            file_count=1,
            prefix="data/churn/u1",
            description="d",
            tags={"k": "v"},
            table=table,
            created_by_run=run.id,
        )
        again = _make(store, "churn", "1" * 64)
        two = _make(store, "churn", "2" * 64, uri="/elsewhere/churn.csv", prefix=None)
        assert (one.version, again.version, two.version) == (1, 1, 2)  # type: ignore[attr-defined]
        got = store.get_data_version("churn", 1)
        assert (got.type, got.table, got.tags, got.datastore, got.created_by_run) == (
            "table",
            table,
            {"k": "v"},
            "workspaceblobstore",
            run.id,
        )
        assert store.get_data_version("churn").uri == "/elsewhere/churn.csv"
        assert [v.version for v in store.list_data_versions("churn")] == [2, 1]
        _make(store, "iris")
        assert [(v.name, v.version) for v in store.list_data_versions()] == [("churn", 2), ("iris", 1)]

    def test_data_bad_input_and_missing_versions(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no data asset 'nope'"):
            store.get_data_version("nope")
        with pytest.raises(NotFoundError, match="version 3"):
            store.get_data_version("nope", 3)
        with pytest.raises(NotFoundError):
            store.list_data_versions("nope")
        with pytest.raises(InvalidInputError, match="data type"):
            _make(store, "x", type="parquet")
        with pytest.raises(InvalidInputError, match="not both"):
            _make(store, "x", uri="/a")
        with pytest.raises(InvalidInputError):
            _make(store, "a b")
        with pytest.raises(NotFoundError):
            _make(store, "x", created_by_run=UNKNOWN_ID)

    def test_concurrent_data_creates_get_distinct_versions(self, store: Store) -> None:
        got = _together(5, lambda i: _make(store, "race", f"{i}" * 64).version)  # type: ignore[attr-defined]
        assert sorted(got) == [1, 2, 3, 4, 5]

    def test_archived_versions_are_skipped_by_latest(self, store: Store) -> None:
        _make(store, "m", "1" * 64)
        _make(store, "m", "2" * 64)
        assert store.set_data_version_archived("m", 2, True).archived
        assert store.get_data_version("m").version == 1
        assert store.get_data_version("m", 2).archived
        assert not store.set_data_version_archived("m", 2, False).archived
        assert store.get_data_version("m").version == 2
        with pytest.raises(NotFoundError):
            store.set_data_version_archived("m", 9, True)

    def test_lineage_records_reads_and_writes_once(self, store: Store) -> None:
        exp = store.create_experiment("lin").id
        a, b = store.create_run(exp), store.create_run(exp)
        _make(store, "d")
        store.record_data_lineage(a.id, "d", 1, "read")
        store.record_data_lineage(a.id, "d", 1, "read")
        store.record_data_lineage(b.id, "d", 1, "written")
        assert [(x.run_id, x.direction) for x in store.list_data_lineage(name="d", version=1)] == sorted(
            [(a.id, "read"), (b.id, "written")]
        )
        assert [x.name for x in store.list_data_lineage(run_id=a.id)] == ["d"]
        with pytest.raises(InvalidInputError):
            store.record_data_lineage(a.id, "d", 1, "sideways")
        with pytest.raises(NotFoundError):
            store.record_data_lineage(a.id, "d", 2, "read")
        with pytest.raises(NotFoundError):
            store.record_data_lineage(UNKNOWN_ID, "d", 1, "read")
