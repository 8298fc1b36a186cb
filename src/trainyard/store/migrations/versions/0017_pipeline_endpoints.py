"""published pipelines and schedules: pipeline endpoints, their versions, schedules and firings

Revision ID: 0017
Revises: 0014

``pipeline_endpoints`` keeps one name per published pipeline and its default version;
``published_pipelines`` its immutable versions (the prepared pipeline record as JSON);
``schedules`` what runs them unattended (``next_fire`` is claimed by compare-and-set) and
``schedule_firings`` each claimed due time. New tables only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_endpoints",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("default_version", sa.Integer(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_pipeline_endpoints"),
    )
    op.create_table(
        "published_pipelines",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["pipeline_endpoints.name"],
            name="fk_published_pipelines_name_pipeline_endpoints",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name="pk_published_pipelines"),
    )
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("pipeline", sa.String(256), nullable=False),
        sa.Column("trigger", sa.String(8), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("missed", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire", sa.Float(), nullable=False),
        sa.Column("watermark", sa.Text(), nullable=True),
        sa.Column("poll_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline"], ["pipeline_endpoints.name"], name="fk_schedules_pipeline_pipeline_endpoints"
        ),
        sa.PrimaryKeyConstraint("name", name="pk_schedules"),
    )
    op.create_table(
        "schedule_firings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(256), nullable=False),
        sa.Column("due", sa.Float(), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule"],
            ["schedules.name"],
            name="fk_schedule_firings_schedule_schedules",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_schedule_firings_run_id_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_firings"),
        sa.UniqueConstraint("schedule", "due", name="uq_schedule_firings_schedule_due"),
    )


def downgrade() -> None:
    op.drop_table("schedule_firings")
    op.drop_table("schedules")
    op.drop_table("published_pipelines")
    op.drop_table("pipeline_endpoints")
