"""datastores: named storage locations data asset versions live on

Revision ID: 0015
Revises: 0014

``datastores`` holds a name, type, fsspec URL, optional endpoint and the names (never the values)
of the environment variables holding its credentials. A new table only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datastores",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=True),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_datastores"),
    )


def downgrade() -> None:
    op.drop_table("datastores")
