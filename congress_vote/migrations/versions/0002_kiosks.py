"""kiosk enrolment (issue 14 hole 1)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('congress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kiosk_only', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))

    op.create_table('kiosk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(), nullable=False),
    sa.Column('enrolled_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'],
                            name=op.f('fk_kiosk_congress_id_congress'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrolled_by'], ['user.id'],
                            name=op.f('fk_kiosk_enrolled_by_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosk_token_hash'))
    )
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_congress_id'), ['congress_id'], unique=False)


def downgrade():
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_congress_id'))
    op.drop_table('kiosk')
    with op.batch_alter_table('congress', schema=None) as batch_op:
        batch_op.drop_column('kiosk_only')
