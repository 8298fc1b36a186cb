"""Idempotency keys of ``SqlStore``: a create and its key are written in one transaction.

So a create whose reply was lost, even in a server crash, is not applied again when the client
retries with its key: the retry finds the key and answers with what the first create made. A
metric batch's id is a key of the same kind (``log_batch(batch_id=…)``): a batch re-sent after a
lost reply is written once. Two
creates with one key at once make one record: on SQLite the write transactions are serialized
(``BEGIN IMMEDIATE``); on PostgreSQL the second one's insert of the key waits for the first to
commit, fails on the primary key, rolls its create back, and then finds the key.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from trainyard.errors import InvalidInputError
from trainyard.store.server import IDEMPOTENCY_TTL_SECONDS
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import IDEMPOTENCY_KEYS as KEYS

# What a create writes, given the transaction's connection: the identity of the record it made
# (JSON), which is what a key keeps and what the create method reads the record back by.
Write = Callable[[Connection], dict[str, Any]]


def _recorded(conn: Connection, key: str, kind: str) -> dict[str, Any] | None:
    row = conn.execute(select(KEYS.c.kind, KEYS.c.result).where(KEYS.c.key == key)).first()
    if row is None:
        return None
    if row.kind != kind:
        raise InvalidInputError(
            f"this idempotency key was used for another create ({row.kind}); use a new key for this {kind}"
        )
    return dict(row.result)


class SqlIdempotency:
    engine: Engine
    _idempotency_key: str | None = None

    def with_idempotency_key(self, key: str) -> Any:
        keyed = copy.copy(self)  # shares the engine; only the key differs
        keyed._idempotency_key = hashlib.sha256(key.encode()).hexdigest()
        return keyed

    def _create(self, kind: str, write: Write) -> dict[str, Any]:
        """``write`` in one write transaction, once per key when this store has one.

        Returns the identity ``write`` returned, or the one the key recorded. An
        ``IntegrityError`` that is not the key's (a name already taken) propagates.
        """
        return self._once(kind, self._idempotency_key, write)

    def _once(self, kind: str, key: str | None, write: Write) -> dict[str, Any]:
        """``write`` in one write transaction, recording ``key`` in it; nothing if ``key`` is recorded."""

        def tx() -> dict[str, Any]:
            with write_tx(self.engine) as conn:
                if key is not None:
                    now = time.time()
                    conn.execute(delete(KEYS).where(KEYS.c.created_at < now - IDEMPOTENCY_TTL_SECONDS))
                    found = _recorded(conn, key, kind)
                    if found is not None:
                        return found
                made = write(conn)
                if key is not None:
                    conn.execute(insert(KEYS).values(key=key, kind=kind, result=made, created_at=now))
                return made

        try:
            return with_retries(tx)
        except IntegrityError:
            if key is not None:  # a write with the same key committed first: answer with its record
                with read_tx(self.engine) as conn:
                    found = _recorded(conn, key, kind)
                if found is not None:
                    return found
            raise
