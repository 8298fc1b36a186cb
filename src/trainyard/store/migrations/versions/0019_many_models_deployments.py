"""many-models deployments: one deployment serving every partition's model of a group

Revision ID: 0019
Revises: 0018

``max_models_in_memory`` is set on a deployment that serves a many-models group (every version
of its model name tagged with a partition, ``model_version`` 0), and says how many of them a
scoring worker keeps loaded. Rows from before this revision serve one version: NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_models_in_memory", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("max_models_in_memory")
