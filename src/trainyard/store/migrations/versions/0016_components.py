"""components: registered command components, versioned per name with their code's snapshot

Revision ID: 0016
Revises: 0014

``components`` holds immutable versions (string versions, ``seq`` the order of creation) with the
component's spec as JSON and the id of its code snapshot. A new table only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_components"),
        sa.UniqueConstraint("name", "seq", name="uq_components_name_seq"),
    )


def downgrade() -> None:
    op.drop_table("components")
