"""metrics keep the sign of -0.0: a negative_zero flag next to is_nan

SQLite stores a REAL that is a whole number as an integer, so -0.0 read back as 0.0.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("metrics", "latest_metrics")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("negative_zero", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("negative_zero")
