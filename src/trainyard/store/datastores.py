"""The datastores part of the Store: named storage locations (an fsspec URL) data assets live on.

Contract, beyond each method's docstring: a record holds the NAMES of the environment variables
that hold its credentials, never a secret (``check_datastore`` refuses a value that is not a
variable name). ``workspaceblobstore``, the workspace's own artifact store, is built in: it is
never stored and cannot be created or deleted. A datastore that a data asset version is on cannot
be deleted, and a version cannot be created on a datastore that does not exist; the two are
checked in the same transaction as the write, so neither can slip past the other.

``check_datastore`` is the one validation of a record's fields, run by every implementation (and
by clients before they send), so a bad URL fails the same way everywhere.
"""

from __future__ import annotations

import abc
import os
import re
from urllib.parse import urlsplit

from trainyard.errors import InvalidInputError
from trainyard.store.records import DEFAULT_DATASTORE, DatastoreRecord

# URL scheme -> datastore type; each type's fsspec backend is an optional extra (s3fs, gcsfs, adlfs).
SCHEMES = {
    "s3": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure_blob",
    "abfs": "azure_blob",
    "abfss": "azure_blob",
    "file": "file",
}
# The fsspec storage options each type may take from an environment variable.
CREDENTIAL_OPTIONS = {
    "s3": ("key", "secret", "token"),
    "gcs": ("token",),
    "azure_blob": (
        "account_name",
        "account_key",
        "sas_token",
        "connection_string",
        "client_id",
        "client_secret",
        "tenant_id",
    ),
    "file": (),
}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
DATASTORE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")


def check_datastore_name(name: str) -> str:
    if not isinstance(name, str) or not DATASTORE_NAME.match(name):
        raise InvalidInputError(
            f"datastore name {name!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
        )
    return name


def datastore_type(url: str) -> str:
    """The datastore type of ``url`` (``s3://bucket/prefix``, ``/abs/folder``…), or why it is refused."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("a datastore needs a URL, e.g. s3://bucket/prefix or /data/folder")
    if url.startswith("/"):
        return "file"
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        what = f"the scheme {scheme}://" if scheme else "a relative path"
        raise InvalidInputError(
            f"datastore URL {url!r}: {what} is not a datastore; use {known} or an absolute folder path"
        )
    kind = SCHEMES[scheme]
    rest = url.split("://", 1)[1]
    if kind == "file" and not rest.startswith("/"):
        raise InvalidInputError(f"datastore URL {url!r}: a file:// URL names an absolute path (file:///data)")
    if kind != "file" and not rest.split("/", 1)[0]:
        raise InvalidInputError(
            f"datastore URL {url!r} names no bucket or container ({scheme}://NAME/prefix)"
        )
    return kind


def check_datastore(
    name: str, url: str, endpoint: str | None, credentials: dict[str, str] | None
) -> tuple[str, str, dict[str, str]]:
    """A record's type, URL (normalized) and credentials, or ``InvalidInputError`` saying what to fix."""
    check_datastore_name(name)
    if name == DEFAULT_DATASTORE:
        raise InvalidInputError(
            f"{DEFAULT_DATASTORE!r} is the workspace's own artifact store, built in; "
            "give the datastore another name"
        )
    kind = datastore_type(url)
    if endpoint is not None:
        if kind not in ("s3", "gcs"):
            raise InvalidInputError(f"datastore {name!r}: an endpoint is for s3:// and gs:// datastores only")
        if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).hostname:
            raise InvalidInputError(
                f"datastore {name!r}: the endpoint {endpoint!r} is not an http(s) URL, e.g. http://minio:9000"
            )
    allowed = CREDENTIAL_OPTIONS[kind]
    checked = {}
    for option, variable in (credentials or {}).items():
        if option not in allowed:
            takes = ", ".join(allowed) if allowed else "none"
            raise InvalidInputError(
                f"datastore {name!r}: {option!r} is not a credential of a {kind} datastore "
                f"(it takes: {takes})"
            )
        if not isinstance(variable, str) or not ENV_NAME.match(variable):
            raise InvalidInputError(
                f"datastore {name!r}: credential {option!r} must name an environment variable "
                "(letters, digits, '_'), not hold the secret itself"
            )
        checked[option] = variable
    return kind, normalized_url(url), checked


def normalized_url(url: str) -> str:
    """``url`` as recorded: a folder as an absolute path, an object store without a trailing '/'."""
    if url.lower().startswith("file://"):
        url = url[len("file://") :]
    return os.path.normpath(url) if url.startswith("/") else url.rstrip("/")


class DatastoreStore(abc.ABC):
    """Named datastores. See the module docstring for the contract."""

    @abc.abstractmethod
    def create_datastore(
        self,
        name: str,
        *,
        url: str,
        endpoint: str | None = None,
        credentials: dict[str, str] | None = None,
        description: str | None = None,
    ) -> DatastoreRecord:
        """Record a datastore (its type from the URL's scheme); ``credentials``: option -> env var NAME.

        ``InvalidInputError`` for a bad name, URL, endpoint or credential (``check_datastore``),
        ``AlreadyExistsError`` if the name is taken.
        """

    @abc.abstractmethod
    def get_datastore(self, name: str) -> DatastoreRecord:
        """The datastore ``name``; ``NotFoundError`` if there is none (the built-in one is not stored)."""

    @abc.abstractmethod
    def list_datastores(self) -> list[DatastoreRecord]:
        """Every stored datastore, by name."""

    @abc.abstractmethod
    def delete_datastore(self, name: str) -> None:
        """Forget a datastore (its files stay where they are).

        ``NotFoundError`` if unknown; ``InvalidInputError`` naming the versions while any data
        asset version (archived or not) is on it.
        """
