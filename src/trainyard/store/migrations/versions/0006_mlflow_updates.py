"""mlflow updates: soft-deleted experiments, registered model tags, version numbering that survives deletes

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+): a batch copy of ``experiments`` would drop a
# table that runs point at, which SQLite's foreign keys refuse.


def upgrade() -> None:
    op.add_column(
        "experiments", sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("models", sa.Column("tags", sa.JSON(), server_default="{}", nullable=False))
    op.add_column("models", sa.Column("last_version", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE models SET last_version = COALESCE("
        "(SELECT MAX(version) FROM model_versions WHERE model_versions.name = models.name), 0)"
    )


def downgrade() -> None:
    op.drop_column("models", "last_version")
    op.drop_column("models", "tags")
    op.drop_column("experiments", "deleted")
