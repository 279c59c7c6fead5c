"""poll_documents (issue 17 item 9): a poll's long documents made in the background — a batch
of ballot slips or paper ballots, the counting minutes — as the delegate cards are.

- `document_job.poll_id`: the poll the document belongs to (deleted with it);
- `document_job.params`: what the job was asked for and what it made (JSON: the count of a batch
  and, once issued, its batch id; the minutes' language).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("params", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_document_job_poll_id_poll"),
            "poll",
            ["poll_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_document_job_poll_id_poll"), type_="foreignkey")
        batch_op.drop_column("params")
        batch_op.drop_column("poll_id")
