"""Version 5: store_settings, the settings an administrator makes for the whole store (issue 23 §8:
the default evaluation date every page and command uses when none is asked for).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("store_settings", sa.Column("key", sa.String(32), primary_key=True),
                    sa.Column("value", sa.String(200), nullable=False),
                    mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin", sqlite_with_rowid=False)
    meta = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="5"))


def downgrade() -> None:
    op.drop_table("store_settings")
    meta = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="4"))
