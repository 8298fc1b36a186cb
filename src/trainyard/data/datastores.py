"""Datastores, as in Azure ML: named storage locations that data assets live on.

``open_datastore(ws, name)`` is the one way data is read from or written to one: the built-in
``workspaceblobstore`` is the workspace's own artifact store; any other is an
``FsspecArtifactStore`` on its URL, with each credential read from the environment variable its
record names, in the process that opens it (a client, a job's worker, an agent), or else from the
value stored for that variable on the machine (``trainyard datastore secret VAR``, a 0600 file:
``credentials.py``). The store holds only the variables' names, so no secret reaches the
metadata store, a log or ``datastore show``.

A path on a datastore is written as Azure writes it: ``azureml://datastores/<name>/paths/<path>``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from trainyard.artifacts.paths import safe_name
from trainyard.credentials import secret
from trainyard.errors import InvalidInputError
from trainyard.store.datastores import CREDENTIAL_OPTIONS
from trainyard.store.records import DEFAULT_DATASTORE, DatastoreRecord

if TYPE_CHECKING:
    from trainyard.artifacts import ArtifactStore
    from trainyard.workspace import Workspace

URI = re.compile(r"^azureml://datastores/(?P<name>[^/]+)/paths/(?P<path>.+)$")
# The usual variable of each credential, so `--credential AWS_ACCESS_KEY_ID` needs no option name.
KNOWN_VARIABLES = {
    "AWS_ACCESS_KEY_ID": "key",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "token",
    "AZURE_STORAGE_ACCOUNT_NAME": "account_name",
    "AZURE_STORAGE_ACCOUNT_KEY": "account_key",
    "AZURE_STORAGE_SAS_TOKEN": "sas_token",
    "AZURE_STORAGE_CONNECTION_STRING": "connection_string",
    "AZURE_CLIENT_ID": "client_id",
    "AZURE_CLIENT_SECRET": "client_secret",
    "AZURE_TENANT_ID": "tenant_id",
    "GOOGLE_APPLICATION_CREDENTIALS": "token",
}
# Each type's fsspec backend, the extra that installs it, and its option for an endpoint.
BACKENDS = {"s3": ("s3fs", "s3", "endpoint_url"), "gcs": ("gcsfs", "gcs", "endpoint_url")}
BACKENDS["azure_blob"] = ("adlfs", "azure", "")


def is_datastore_uri(value: object) -> bool:
    return isinstance(value, str) and value.startswith("azureml://datastores/")


def parse_datastore_uri(uri: str) -> tuple[str, str]:
    """``azureml://datastores/<name>/paths/<path>`` -> (name, path), the path a key in the datastore."""
    match = URI.match(uri.strip())
    if match is None:
        raise InvalidInputError(
            f"cannot read the datastore path {uri!r}; write azureml://datastores/NAME/paths/PATH"
        )
    return match.group("name"), safe_name(match.group("path").strip("/"))


def datastore_uri(name: str, path: str) -> str:
    return f"azureml://datastores/{name}/paths/{path}"


def credential_pairs(values: list[str]) -> dict[str, str]:
    """``option=VARIABLE`` or a well-known ``VARIABLE`` (``AWS_ACCESS_KEY_ID``) -> {option: VARIABLE}."""
    found = {}
    for value in values:
        option, sep, variable = value.partition("=")
        if not sep:
            variable = value
            option = KNOWN_VARIABLES.get(value, "")
            if not option:
                raise InvalidInputError(
                    f"--credential {value!r}: write OPTION=VARIABLE (e.g. key=MY_KEY_VAR), or one of "
                    f"{', '.join(KNOWN_VARIABLES)}"
                )
        found[option.strip()] = variable.strip()
    return found


def builtin(ws: Workspace) -> DatastoreRecord:
    """The workspace's own artifact store as a datastore record (never stored)."""
    return DatastoreRecord(
        name=DEFAULT_DATASTORE,
        type="artifacts",
        url=ws.artifacts_url,
        created_at=0.0,
        description="the workspace's artifact store (built in)",
    )


def get_datastore(ws: Workspace, name: str) -> DatastoreRecord:
    return builtin(ws) if name == DEFAULT_DATASTORE else ws.store.get_datastore(name)


def list_datastores(ws: Workspace) -> list[DatastoreRecord]:
    return [builtin(ws), *ws.store.list_datastores()]


def storage_options(record: DatastoreRecord) -> dict[str, Any]:
    """The fsspec options of ``record``: its endpoint, and each credential from its variable, here."""
    options: dict[str, Any] = {}
    endpoint_option = BACKENDS.get(record.type, ("", "", ""))[2]
    if record.endpoint and endpoint_option:
        options[endpoint_option] = record.endpoint
    for option, variable in record.credentials.items():
        if option not in CREDENTIAL_OPTIONS.get(record.type, ()):
            continue  # the store checked it when it was created
        value = secret(variable)
        if not value:
            raise InvalidInputError(
                f"datastore {record.name!r}: the environment variable {variable} (its {option}) is "
                f"not set; set it where the datastore is opened, or store it on this machine with "
                f"`trainyard datastore secret {variable}`"
            )
        options[option] = value
    return options


def open_record(record: DatastoreRecord) -> ArtifactStore:
    """An ``FsspecArtifactStore`` on a stored datastore, signed in with its credentials."""
    from trainyard.artifacts.fsspec_store import FsspecArtifactStore

    options = storage_options(record)
    try:
        return FsspecArtifactStore(record.url, options)
    except ImportError:
        package, extra, _ = BACKENDS.get(record.type, (record.type, record.type, ""))
        raise InvalidInputError(
            f"datastore {record.name!r} ({record.url}) needs the {package} package: "
            f"pip install 'trainyard[{extra}]'"
        ) from None


def open_datastore(ws: Workspace, name: str) -> ArtifactStore:
    """The datastore ``name`` of ``ws`` to read and write files in (``workspaceblobstore``: its artifacts)."""
    if name == DEFAULT_DATASTORE:
        return ws.artifacts
    return open_record(ws.store.get_datastore(name))
