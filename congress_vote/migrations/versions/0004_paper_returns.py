"""paper returns and committee scope (issue 14 hole 7)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # The unused paper ballots collected back after the close (issue 14 hole 7).
    op.create_table('paper_return',
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('unused', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_paper_return_poll_id_poll'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['user.id'], name=op.f('fk_paper_return_recorded_by_user')),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_paper_return'))
    )


def downgrade():
    op.drop_table('paper_return')
