"""User-facing errors: every one says what was wrong and what to do about it.

The CLI prints these without a traceback and exits non-zero; anything that is not a
``TrainyardError`` is a bug in trainyard and keeps its traceback.
"""

from __future__ import annotations


class TrainyardError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 1


class TrainyardWarning(UserWarning):
    """Something a user should know that is not an error (the CLI prints it as one line)."""


class NotFoundError(TrainyardError):
    """A named or identified thing does not exist."""


class AlreadyExistsError(TrainyardError):
    """A create collided with an existing name."""


class InvalidInputError(TrainyardError):
    """A value, spec or file given by the user is malformed."""


class InvalidTransitionError(TrainyardError):
    """A run was asked to move to a status it cannot reach from where it is."""


class WorkspaceError(TrainyardError):
    """The workspace is missing, unreadable or at the wrong schema version."""


class EnvironmentBuildError(TrainyardError):
    """Building a Python environment failed; the message carries the resolver's output."""


class ArtifactPathError(InvalidInputError):
    """An artifact name would escape its root or is otherwise unsafe."""


class SnapshotTooLargeError(InvalidInputError):
    """The source directory exceeds the snapshot size limit."""
