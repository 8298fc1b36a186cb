"""metric blocks: each metric's values summarised per 64 steps, so long series are cut from them

Revision ID: 0018
Revises: 0017

``metric_blocks`` keeps, per run, attempt, key and block of steps, the count of values and the
smallest and largest finite one with its step and time (``store.sql.blocks``). Filled from the
metrics already logged by ``blocks.rebuild``, which reads the head schema's tables: a later
revision that changes ``metrics`` or ``metric_blocks`` must give this one a frozen copy of it.
"""

import sqlalchemy as sa
from alembic import op

from trainyard.store.sql import blocks

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    picked = [
        sa.Column(f"{end}_{name}", kind, nullable=True)
        for end in ("low", "high")
        for name, kind in (
            ("value", sa.Float()),
            ("negative_zero", sa.Boolean()),
            ("step", sa.BigInteger()),
            ("timestamp", sa.Float()),
        )
    ]
    op.create_table(
        "metric_blocks",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        *picked,
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_metric_blocks_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "attempt", "key", "block", name="pk_metric_blocks"),
    )
    blocks.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("metric_blocks")
