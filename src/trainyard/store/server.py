"""The server-only part of the Store: users and tokens, the agents' queue (and the agents seen),
idempotency keys.

A team server needs these and no client does, so ``RestStore`` has none of them and
``trainyard.store.base.Store`` does not declare them; ``SqlStore`` implements both. The server
asks its workspace's store for this part (``server_part``) rather than reaching for its engine.
"""

from __future__ import annotations

import abc

from trainyard.errors import InvalidInputError
from trainyard.store.auth import Principal, TokenInfo, User
from trainyard.store.base import Store
from trainyard.store.queue import AgentSighting, QueueRun

IDEMPOTENCY_TTL_SECONDS = 24 * 3600.0


class ServerStore(abc.ABC):
    """What the server keeps beside the workspace's metadata, in the same database."""

    # users ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_user(self, name: str, role: str = "contributor") -> User:
        """A new user.

        ``AlreadyExistsError`` if the name is taken, ``InvalidInputError`` for a bad name or role.
        """

    @abc.abstractmethod
    def set_role(self, name: str, role: str) -> User:
        """Give ``name`` the role ``role``; returns the user.

        ``NotFoundError`` for an unknown user, ``InvalidInputError`` for a bad role.
        """

    @abc.abstractmethod
    def get_user(self, name: str) -> User:
        """The user named ``name``; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every user, by name."""

    # tokens -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_token(
        self, user: str, *, kind: str = "user", expires_in: float | None = None, run_id: str | None = None
    ) -> tuple[str, TokenInfo]:
        """A new token for ``user`` and its record; the secret is returned here once and never stored.

        ``NotFoundError`` for an unknown user; ``InvalidInputError`` for an unknown kind or a
        lifetime that is not positive or over 100 years.
        """

    @abc.abstractmethod
    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        """The tokens (of ``user``, or everyone's), oldest first, without their secrets."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> None:
        """End the token now (a revoked one stays revoked); ``NotFoundError`` for an unknown id."""

    @abc.abstractmethod
    def revoke_run_tokens(self, run_id: str) -> int:
        """End the job tokens of a run that is over; returns how many were still active."""

    @abc.abstractmethod
    def holds_run(self, run_id: str, user: str) -> bool:
        """Whether ``user`` was handed a job token for ``run_id`` that is not revoked (the run's claimer)."""

    @abc.abstractmethod
    def runs_with_job_tokens(self) -> list[str]:
        """Runs that have a job token not yet revoked (the reaper ends those of finished runs)."""

    @abc.abstractmethod
    def authenticate(self, token: str) -> Principal:
        """The principal behind ``token``; ``trainyard.store.auth.TokenRejected`` saying why not.

        Refused: a malformed, unknown, revoked or expired token, and a job token whose run
        ended more than ``JOB_TOKEN_GRACE_SECONDS`` ago.
        """

    # the agents' queue ---------------------------------------------------------------------------
    @abc.abstractmethod
    def queued_run_ids(self, compute: str, limit: int = 8) -> list[str]:
        """Ids of the oldest runs waiting for an agent of ``compute`` (queued, no worker on them).

        A claim polls this every 0.1 s per waiting agent, so it is one indexed query for ids
        only, not a ``search_runs`` that fills in params, tags and metrics.
        """

    @abc.abstractmethod
    def record_agent(self, agent: str, compute: str, user: str) -> None:
        """Note that ``agent`` (of ``user``) asked for runs of ``compute`` now.

        Sightings older than ``trainyard.store.queue.AGENT_MEMORY_SECONDS`` are forgotten.
        """

    @abc.abstractmethod
    def list_agents(self) -> list[AgentSighting]:
        """The agents seen in the last ``AGENT_MEMORY_SECONDS``, by compute name, then id."""

    @abc.abstractmethod
    def queue_runs(self, compute: str | None = None) -> list[QueueRun]:
        """The runs on ``compute`` (or on any compute name) queued, preparing or running, oldest first."""

    # idempotency ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def with_idempotency_key(self, key: str) -> Store:
        """This store, whose creates record ``key`` in the same transaction as what they create.

        A create under a key already recorded (in the last ``IDEMPOTENCY_TTL_SECONDS``) writes
        nothing and returns the record the first create made (read again by the identity the
        key keeps, so as it is now): a client retrying after a lost reply, even one lost in a
        server crash, creates once. Two creates with one key at once make one record. Keys are
        any string (the server passes a caller-scoped one), kept hashed; keys older than the
        TTL are pruned. ``InvalidInputError`` when the key was used for a create of another kind.
        """


def server_part(store: Store) -> ServerStore:
    """The server-only part of a workspace's store; ``InvalidInputError`` for one that has none."""
    if not isinstance(store, ServerStore):
        raise InvalidInputError(
            f"a trainyard server needs a SQL workspace store, not {type(store).__name__}; "
            "point it at a folder, sqlite:/// or postgresql:// URI"
        )
    return store
