"""projector: the chair's choice of what the hall's screen shows (issue 17 item 1)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('projector_choice',
    sa.Column('congress_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("mode in ('auto', 'poll', 'attendance', 'message', 'blank')",
                       name=op.f('ck_projector_choice_mode')),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'],
                            name=op.f('fk_projector_choice_congress_id_congress'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'],
                            name=op.f('fk_projector_choice_poll_id_poll'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'],
                            name=op.f('fk_projector_choice_updated_by_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('congress_id', name=op.f('pk_projector_choice'))
    )


def downgrade():
    op.drop_table('projector_choice')
