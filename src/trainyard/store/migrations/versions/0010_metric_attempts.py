"""a metric row's attempt: a retried job's attempts keep their series apart

Revision ID: 0010
Revises: 0009

Rows logged before this revision get their run's attempt count: which attempt logged them is
not known, and the last one is what the history shows by default. The history index leads with
the attempt after the run, since every read of a series names one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
    op.execute("UPDATE metrics SET attempt = (SELECT attempt FROM runs WHERE runs.id = metrics.run_id)")
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    op.create_index("ix_metrics_run_attempt_key_step", "metrics", ["run_id", "attempt", "key", "step"])


def downgrade() -> None:
    op.drop_index("ix_metrics_run_attempt_key_step", table_name="metrics")
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"])
    op.drop_column("metrics", "attempt")
