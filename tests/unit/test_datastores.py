"""Datastore paths, credential options and opening a datastore, without a workspace or a network."""

from __future__ import annotations

import importlib.util

import pytest

from trainyard.data.datastores import credential_pairs, open_record, parse_datastore_uri, storage_options
from trainyard.errors import ArtifactPathError, InvalidInputError
from trainyard.store.records import DatastoreRecord


def _record(**fields: object) -> DatastoreRecord:
    return DatastoreRecord(**{"name": "lake", "type": "s3", "url": "s3://b/p", "created_at": 0.0, **fields})  # type: ignore[arg-type]


def test_datastore_paths_are_azures_and_stay_inside_the_datastore() -> None:
    assert parse_datastore_uri("azureml://datastores/lake/paths/raw/x.csv") == ("lake", "raw/x.csv")
    assert parse_datastore_uri("azureml://datastores/lake/paths/raw/folder/") == ("lake", "raw/folder")
    with pytest.raises(InvalidInputError, match="azureml://datastores/NAME/paths/PATH"):
        parse_datastore_uri("azureml://datastores/lake/raw/x.csv")
    with pytest.raises(ArtifactPathError):
        parse_datastore_uri("azureml://datastores/lake/paths/raw/../../etc/passwd")


def test_credentials_are_option_variable_pairs_or_well_known_variables() -> None:
    assert credential_pairs(["AWS_ACCESS_KEY_ID", "secret=LAKE_SECRET"]) == {
        "key": "AWS_ACCESS_KEY_ID",
        "secret": "LAKE_SECRET",
    }
    with pytest.raises(InvalidInputError, match="OPTION=VARIABLE"):
        credential_pairs(["LAKE_KEY"])


def test_storage_options_read_the_named_variables_when_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    record = _record(endpoint="http://minio:9000", credentials={"key": "LAKE_KEY", "secret": "LAKE_SECRET"})
    monkeypatch.setenv("LAKE_KEY", "k")
    monkeypatch.setenv("LAKE_SECRET", "s")
    assert storage_options(record) == {"endpoint_url": "http://minio:9000", "key": "k", "secret": "s"}
    monkeypatch.delenv("LAKE_SECRET")
    with pytest.raises(InvalidInputError, match="variable LAKE_SECRET \\(its secret\\) is not set"):
        storage_options(record)


def test_a_secret_stored_on_the_machine_stands_in_for_an_unset_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from trainyard.credentials import save_secret

    monkeypatch.setenv("TRAINYARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LAKE_KEY", "k")
    monkeypatch.delenv("LAKE_SECRET", raising=False)
    record = _record(credentials={"key": "LAKE_KEY", "secret": "LAKE_SECRET"})
    path = save_secret("LAKE_SECRET", "from-file")
    assert path.stat().st_mode & 0o077 == 0  # the user's only
    assert storage_options(record)["secret"] == "from-file"
    monkeypatch.setenv("LAKE_SECRET", "from-env")  # the environment wins
    assert storage_options(record)["secret"] == "from-env"


@pytest.mark.skipif(importlib.util.find_spec("gcsfs") is not None, reason="gcsfs is installed here")
def test_a_datastore_without_its_backend_names_the_extra_to_install() -> None:
    with pytest.raises(InvalidInputError, match=r"needs the gcsfs package: pip install 'trainyard\[gcs\]'"):
        open_record(_record(type="gcs", url="gs://bucket/p"))
