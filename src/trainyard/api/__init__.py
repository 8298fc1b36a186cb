"""The wire contract of REST API v1, imported by the server and by every client.

``routes`` declares each route once, ``schemas`` the bodies and the JSON form of records,
``errors`` the one table of error codes, and ``client`` the one HTTP client (retry and backoff,
idempotent creates, streamed transfers). This package imports nothing of trainyard above
``errors``, ``status`` and ``limits``: the server, the stores, the artifact stores, the agent and
the CLI all sit above it.
"""
