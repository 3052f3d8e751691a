"""Version 4: the workbench's saved drafts (issue 23): the tables drafts and draft_versions.

Nothing else changes; a store upgraded to 4 has no drafts yet.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table("drafts",
                    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                    sa.Column("name", sa.String(200), nullable=False), sa.Column("author", sa.String(64), nullable=False),
                    sa.Column("units", sa.String(2000), nullable=False),
                    sa.Column("created", sa.DateTime(), nullable=False), **_OPTIONS)
    op.create_table("draft_versions",
                    sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
                    sa.Column("author", sa.String(64), nullable=False), sa.Column("at", sa.DateTime(), nullable=False),
                    sa.Column("text", sa.Text().with_variant(sa.Text(2 ** 24 - 1), "mysql", "mariadb"), nullable=False),
                    sa.Column("note", sa.String(500), nullable=False), **_OPTIONS)
    meta = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="4"))   # `key`: quoted
