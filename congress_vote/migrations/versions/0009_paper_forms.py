"""paper_forms: the congress's time zone, for every time on paper (issue 18 part 2)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("congress", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "time_zone",
                sa.String(length=64),
                server_default="Asia/Ho_Chi_Minh",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("congress", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
