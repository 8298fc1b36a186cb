"""The conformance suite of the datastores part: records, bad input, and deletes refused while in use."""

from __future__ import annotations

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.base import Store
from trainyard.testing.store_suite_common import _together

HASH = "d" * 64


class DatastoreSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_datastores_are_recorded_with_their_credential_names(self, store: Store) -> None:
        made = store.create_datastore(
            "lake",
            url="s3://bucket/prefix/",
            endpoint="http://1.1.1.1:9000",  # a public address: a server refuses private ones
            credentials={"key": "LAKE_KEY", "secret": "LAKE_SECRET"},
            description="raw exports",
        )
        assert (made.name, made.type, made.url, made.endpoint) == (
            "lake",
            "s3",
            "s3://bucket/prefix",
            "http://1.1.1.1:9000",
        )
        assert made.credentials == {"key": "LAKE_KEY", "secret": "LAKE_SECRET"}
        assert store.get_datastore("lake") == made
        store.create_datastore("disk", url="file:///srv/data/../data")
        store.create_datastore("blobs", url="abfs://container/x", credentials={"account_key": "AZ_KEY"})
        store.create_datastore("gcs", url="gs://b")
        got = [(d.name, d.type, d.url) for d in store.list_datastores()]
        assert got == [
            ("blobs", "azure_blob", "abfs://container/x"),
            ("disk", "file", "/srv/data"),
            ("gcs", "gcs", "gs://b"),
            ("lake", "s3", "s3://bucket/prefix"),
        ]
        with pytest.raises(AlreadyExistsError, match="'lake' already exists"):
            store.create_datastore("lake", url="s3://other")

    def test_datastore_bad_input(self, store: Store) -> None:
        bad = [
            ({"url": "ftp://host/x"}, "scheme ftp://"),
            ({"url": "relative/folder"}, "relative path"),
            ({"url": "s3:///no-bucket"}, "no bucket"),
            ({"url": "file://relative"}, "absolute path"),
            ({"url": "s3://b", "credentials": {"password": "X"}}, "'password' is not a credential"),
            ({"url": "s3://b", "credentials": {"secret": "wJalr/K7MDENG+bPxRfiCY"}}, "name an environment"),
            ({"url": "/data", "credentials": {"key": "K"}}, "it takes: none"),
            ({"url": "s3://b", "endpoint": "minio:9000"}, "not an http"),
            ({"url": "/data", "endpoint": "http://x"}, "s3:// and gs://"),
        ]
        for fields, message in bad:
            with pytest.raises(InvalidInputError, match=message):
                store.create_datastore("ds", **fields)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="built in"):
            store.create_datastore("workspaceblobstore", url="s3://b")
        with pytest.raises(InvalidInputError, match="datastore name"):
            store.create_datastore("a b", url="s3://b")
        assert store.list_datastores() == []
        with pytest.raises(NotFoundError, match="no datastore 'nope'"):
            store.get_datastore("nope")
        with pytest.raises(NotFoundError, match="no datastore 'nope'"):
            store.delete_datastore("nope")

    def test_a_datastore_in_use_is_not_deleted(self, store: Store) -> None:
        store.create_datastore("lake", url="s3://bucket")
        fields = {"type": "uri_file", "size_bytes": 1, "file_count": 1, "prefix": "raw/a.csv"}
        store.create_data_version("churn", content_hash=HASH, datastore="lake", **fields)  # type: ignore[arg-type]
        assert store.get_data_version("churn", 1).datastore == "lake"
        store.set_data_version_archived("churn", 1, True)
        with pytest.raises(InvalidInputError, match=r"'lake' cannot be deleted.*churn:1"):
            store.delete_datastore("lake")
        assert store.get_datastore("lake").name == "lake"
        with pytest.raises(NotFoundError, match="no datastore 'gone'"):
            store.create_data_version("x", content_hash=HASH, datastore="gone", **fields)  # type: ignore[arg-type]
        store.create_datastore("empty", url="/srv/empty")
        store.delete_datastore("empty")
        with pytest.raises(NotFoundError):
            store.get_datastore("empty")

    def test_a_delete_racing_creates_on_it_leaves_no_version_on_a_missing_datastore(
        self, store: Store
    ) -> None:
        store.create_datastore("race", url="s3://bucket")
        fields = {"type": "uri_file", "size_bytes": 1, "file_count": 1, "datastore": "race"}

        def one(i: int) -> str:
            try:
                if i == 0:
                    store.delete_datastore("race")
                    return "deleted"
                store.create_data_version(f"d{i}", content_hash=HASH, prefix=f"p{i}", **fields)  # type: ignore[arg-type]
                return "created"
            except (InvalidInputError, NotFoundError) as exc:
                return type(exc).__name__

        outcome = _together(4, one)
        on_it = [v for v in store.list_data_versions() if v.datastore == "race"]
        if outcome[0] == "deleted":
            assert on_it == [] and "created" not in outcome
        else:
            assert on_it and store.get_datastore("race").name == "race"
