"""Alembic migrations of the SQL store (``trainyard db upgrade`` runs them)."""
