"""data assets: versions of named data, and the runs that read or wrote them

Revision ID: 0014
Revises: 0013

``data_versions`` holds immutable versions numbered per name (files in the artifact store, or a
reference); ``data_lineage`` holds (run, name, version, read|written). New tables only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("datastore", sa.String(256), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=True),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("table_stats", sa.JSON(), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by_run", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_run"], ["runs.id"], name="fk_data_versions_created_by_run_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("name", "version", name="pk_data_versions"),
    )
    op.create_table(
        "data_lineage",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_data_lineage_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["data_versions.name", "data_versions.version"],
            name="fk_data_lineage_name_data_versions",
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "version", "direction", name="pk_data_lineage"),
    )
    op.create_index("ix_data_lineage_data", "data_lineage", ["name", "version"])


def downgrade() -> None:
    op.drop_index("ix_data_lineage_data", table_name="data_lineage")
    op.drop_table("data_lineage")
    op.drop_table("data_versions")
