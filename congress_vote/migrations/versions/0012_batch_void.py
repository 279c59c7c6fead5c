"""batch_void: a batch of ballots voided while its poll is open (issue 17 item 2, issue 18 part 5):
when, by whom, and how many unused ballots it voided.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("issue_batch") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("voided_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("voided_count", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_issue_batch_voided_by_user"), "user", ["voided_by"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("issue_batch") as batch:
        batch.drop_constraint(op.f("fk_issue_batch_voided_by_user"), type_="foreignkey")
        batch.drop_column("voided_count")
        batch.drop_column("voided_by")
        batch.drop_column("voided_at")
