"""Who may use a team server: users with a role, API tokens, the principal behind a request.

A token reads ``ty_<id>_<secret>``: the id finds the row, and only the sha256 of the secret is
stored, compared with ``hmac.compare_digest``; a leaked database gives no usable token. Kinds:
``user`` (the user's role), ``agent`` (claims and reports jobs, nothing else) and ``job``
(minted for one claimed run so the job can log to it; revoked when the run ends). These are
records of the server-only part (``trainyard.store.server``): clients never see users or hashes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from trainyard.errors import InvalidInputError, TrainyardError

ROLES = ("reader", "contributor", "owner")
KINDS = ("user", "agent", "job")
MAX_LIFETIME = 100 * 365 * 86400.0
TOKEN_RE = re.compile(r"^ty_([0-9a-f]{32})_([A-Za-z0-9_-]{20,100})$")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)


class TokenRejected(TrainyardError):
    """The token is missing, malformed, unknown, expired or revoked (HTTP 401)."""


# A job token still works this long after its run ended (its worker's last log upload), then never.
JOB_TOKEN_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user_name: str
    kind: str
    run_id: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= time.time():
            return "expired"
        return "active"


@dataclass(frozen=True)
class Principal:
    """Who a request is from: the user, their role, and which kind of token they used."""

    user: str
    role: str
    kind: str
    token_id: str
    run_id: str | None = None

    def has_role(self, needed: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)

    def may_write_run(self, lineage: Sequence[str]) -> bool:
        """Whether this principal may change the run whose id and ancestors' ids are ``lineage``
        (the run first): a contributor's user token any run; a job token only its own run and the
        runs below it (a sweep's trials, a pipeline's steps); an agent token none."""
        if not self.has_role("contributor") or self.kind == "agent":
            return False
        return self.kind != "job" or self.run_id in lineage


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInputError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    return role
