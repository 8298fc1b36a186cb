"""a deployment's environment: the one its scoring server runs in

Revision ID: 0013
Revises: 0010

Kept as ``name:version`` (pinned when the deployment is created), so a restart or a retrain
serves in the same built environment even after a newer version of it is registered. Rows from
before this revision are deployments on the default interpreter: NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("environment", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("environment")
