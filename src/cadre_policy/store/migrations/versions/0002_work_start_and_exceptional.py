"""Version 2: cadres.work_start (参加工作时间) and nominations.exceptional (破格).

Both are optional; their absence means what version 1 meant (no 参加工作时间, not 破格).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cadres", sa.Column("work_start", sa.Date(), nullable=True))
    op.add_column("nominations", sa.Column("exceptional", sa.Boolean(), nullable=True))
    meta = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))   # `key`: quoted
