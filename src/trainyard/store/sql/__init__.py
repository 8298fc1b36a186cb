"""SQL implementation of the Store (SQLite by default, PostgreSQL for teams)."""
