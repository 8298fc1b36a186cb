"""an endpoint's router restarts, and a deployment's per-request timeout

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restarts", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_timeout", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("request_timeout")
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("restarts")
