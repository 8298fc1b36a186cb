"""Size limits of names and values, shared by the stores and the wire contract (``trainyard.api``).

They sit below both, so the server's request schemas state the store's limits without importing
the store.
"""

from __future__ import annotations

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_IDEMPOTENCY_KEY_LENGTH = 200  # a create's Idempotency-Key, a metric batch's id
