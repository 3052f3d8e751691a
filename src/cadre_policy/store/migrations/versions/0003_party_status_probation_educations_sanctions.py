"""Version 3: the record a department keeps (issue 26).

cadres.party_joined (入党时间), party_full (转正), status (身份); posts.probation_end (任职试用期);
the tables educations (学历学位) and sanctions (处分、组织处理、诫勉). All optional: their absence
means none on record.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from cadre_policy.store.models import ID_LEN, _id_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "sqlite_with_rowid": False}


def _keys() -> list:
    return [sa.Column("cadre_id", _id_type(), sa.ForeignKey("cadres.id", ondelete="CASCADE"), primary_key=True),
            sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False)]


def upgrade() -> None:
    assert ID_LEN == 64           # the id columns as version 3 made them
    op.add_column("cadres", sa.Column("party_joined", sa.Date(), nullable=True))
    op.add_column("cadres", sa.Column("party_full", sa.Date(), nullable=True))
    op.add_column("cadres", sa.Column("status", sa.String(32), nullable=True))
    op.add_column("posts", sa.Column("probation_end", sa.Date(), nullable=True))
    op.create_table("educations", *_keys(),
                    sa.Column("level", sa.String(16), nullable=False), sa.Column("degree", sa.String(16)),
                    sa.Column("mode", sa.String(16), nullable=False), sa.Column("school", sa.String(200)),
                    sa.Column("major", sa.String(200)), sa.Column("date", sa.Date(), nullable=False), **_OPTIONS)
    op.create_table("sanctions", *_keys(),
                    sa.Column("date", sa.Date(), nullable=False), sa.Column("kind", sa.String(32), nullable=False),
                    sa.Column("years", sa.Integer()), sa.Column("note", sa.String(500)), **_OPTIONS)
    meta = sa.table("schema_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="3"))   # `key`: quoted
