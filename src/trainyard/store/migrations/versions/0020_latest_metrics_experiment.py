"""latest metrics by experiment: a run list ordered by a metric reads an index in order

Revision ID: 0020
Revises: 0019

``latest_metrics`` gets its run's experiment (filled from ``runs``; a run never changes
experiment) and an index on experiment, key, NaN flag and value, so ``order_by metrics.X`` with
a page size finds the page's boundary value by walking the index (``store.sql.search``) rather
than sorting every run of the experiment. ``run_tags`` gets an index by key: the searches people
make leave out the runs tagged deleted, which otherwise read every run's tags.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEX = "ix_latest_metrics_experiment_key_value"


def upgrade() -> None:
    op.add_column("latest_metrics", sa.Column("experiment_id", sa.String(32), nullable=True))
    op.execute(
        "UPDATE latest_metrics SET experiment_id = "
        "(SELECT experiment_id FROM runs WHERE runs.id = latest_metrics.run_id)"
    )
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.alter_column("experiment_id", existing_type=sa.String(32), nullable=False)
    op.create_index(INDEX, "latest_metrics", ["experiment_id", "key", "is_nan", "value", "run_id"])
    op.create_index("ix_run_tags_key", "run_tags", ["key"])


def downgrade() -> None:
    op.drop_index("ix_run_tags_key", table_name="run_tags")
    op.drop_index(INDEX, table_name="latest_metrics")
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.drop_column("experiment_id")
