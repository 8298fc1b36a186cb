"""Users and API tokens of ``SqlStore`` (the server-only part; records in ``trainyard.store.auth``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.auth import (
    JOB_TOKEN_GRACE_SECONDS,
    KINDS,
    MAX_LIFETIME,
    NAME_RE,
    TOKEN_RE,
    Principal,
    TokenInfo,
    TokenRejected,
    User,
    check_role,
)
from trainyard.store.sql.engine import execute_write, read_tx
from trainyard.store.sql.models import API_TOKENS, RUNS, USERS


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlAuth:
    """Users and tokens over the workspace's engine (SQLite or PostgreSQL)."""

    engine: Engine

    # users ------------------------------------------------------------------------------------
    def add_user(self, name: str, role: str = "contributor") -> User:
        if not NAME_RE.match(name):
            raise InvalidInputError(
                f"user name {name!r}: use up to 64 letters, digits and . _ @ - (first a letter or digit)"
            )
        user = User(name, check_role(role), time.time())
        try:
            execute_write(
                self.engine, insert(USERS).values(name=user.name, role=user.role, created_at=user.created_at)
            )
        except IntegrityError:
            raise AlreadyExistsError(f"a user named {name!r} already exists") from None
        return user

    def set_role(self, name: str, role: str) -> User:
        if not execute_write(
            self.engine, update(USERS).where(USERS.c.name == name).values(role=check_role(role))
        ):
            raise NotFoundError(f"no user named {name!r}; `trainyard user list` shows them")
        return self.get_user(name)

    def get_user(self, name: str) -> User:
        with read_tx(self.engine) as conn:
            row = conn.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"no user named {name!r}; `trainyard user list` shows them")
        return User(**row)

    def list_users(self) -> list[User]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(USERS).order_by(USERS.c.name)).mappings().all()
        return [User(**r) for r in rows]

    # tokens -----------------------------------------------------------------------------------
    def create_token(
        self, user: str, *, kind: str = "user", expires_in: float | None = None, run_id: str | None = None
    ) -> tuple[str, TokenInfo]:
        """A new token for ``user``; the secret is returned here once and never stored."""
        if kind not in KINDS:
            raise InvalidInputError(f"token kind {kind!r} is not one of: {', '.join(KINDS)}")
        if expires_in is not None and not 0 < expires_in <= MAX_LIFETIME:
            raise InvalidInputError("a token's lifetime must be positive and at most 100 years")
        self.get_user(user)
        now = time.time()
        info = TokenInfo(
            uuid.uuid4().hex, user, kind, run_id, now, None if expires_in is None else now + expires_in, None
        )
        secret = secrets.token_urlsafe(32)
        execute_write(self.engine, insert(API_TOKENS).values(**info.__dict__, secret_hash=_hash(secret)))
        return f"ty_{info.id}_{secret}", info

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        query = select(*[c for c in API_TOKENS.c if c.name != "secret_hash"]).order_by(
            API_TOKENS.c.created_at
        )
        if user is not None:
            query = query.where(API_TOKENS.c.user_name == user)
        with read_tx(self.engine) as conn:
            return [TokenInfo(**r) for r in conn.execute(query).mappings().all()]

    def revoke_token(self, token_id: str) -> None:
        done = execute_write(
            self.engine,
            update(API_TOKENS)
            .where(API_TOKENS.c.id == token_id, API_TOKENS.c.revoked_at.is_(None))
            .values(revoked_at=time.time()),
        )
        if not done:
            with read_tx(self.engine) as conn:
                if conn.execute(select(API_TOKENS.c.id).where(API_TOKENS.c.id == token_id)).first() is None:
                    raise NotFoundError(f"no token with id {token_id!r}; `trainyard token list` shows them")

    def revoke_run_tokens(self, run_id: str) -> int:
        """End the job tokens of a run that is over."""
        return execute_write(
            self.engine,
            update(API_TOKENS)
            .where(API_TOKENS.c.run_id == run_id, API_TOKENS.c.revoked_at.is_(None))
            .values(revoked_at=time.time()),
        )

    def holds_run(self, run_id: str, user: str) -> bool:
        """Whether ``user`` was handed a job token for ``run_id`` that is not revoked (the run's claimer)."""
        query = select(API_TOKENS.c.id).where(
            API_TOKENS.c.run_id == run_id,
            API_TOKENS.c.user_name == user,
            API_TOKENS.c.kind == "job",
            API_TOKENS.c.revoked_at.is_(None),
        )
        with read_tx(self.engine) as conn:
            return conn.execute(query.limit(1)).first() is not None

    def runs_with_job_tokens(self) -> list[str]:
        """Runs that have a job token not yet revoked (the reaper ends those of finished runs)."""
        query = (
            select(API_TOKENS.c.run_id)
            .distinct()
            .where(
                API_TOKENS.c.kind == "job",
                API_TOKENS.c.revoked_at.is_(None),
                API_TOKENS.c.run_id.is_not(None),
            )
        )
        with read_tx(self.engine) as conn:
            return list(conn.execute(query).scalars())

    def authenticate(self, token: str) -> Principal:
        """The principal behind ``token``, or ``TokenRejected`` saying why not."""
        match = TOKEN_RE.match(token)
        if match is None:
            raise TokenRejected("malformed token: expected ty_<id>_<secret> (`trainyard token create`)")
        token_id, secret = match.groups()
        query = (  # one query per request: a job token's run comes along for its end time
            select(API_TOKENS, USERS.c.role, RUNS.c.end_time.label("run_end_time"))
            .join(USERS, USERS.c.name == API_TOKENS.c.user_name)
            .outerjoin(RUNS, RUNS.c.id == API_TOKENS.c.run_id)
            .where(API_TOKENS.c.id == token_id)
        )
        with read_tx(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        if row is None or not hmac.compare_digest(_hash(secret), row["secret_hash"]):
            raise TokenRejected("unknown token")
        if row["revoked_at"] is not None:
            raise TokenRejected(f"token {token_id} was revoked")
        if row["expires_at"] is not None and row["expires_at"] <= time.time():
            raise TokenRejected(
                f"token {token_id} has expired; create a new one with `trainyard token create`"
            )
        ended = row["run_end_time"]
        if ended is not None and ended < time.time() - JOB_TOKEN_GRACE_SECONDS:
            raise TokenRejected(f"token {token_id} was its job's, and the job has ended")
        return Principal(row["user_name"], row["role"], row["kind"], token_id, row["run_id"])
