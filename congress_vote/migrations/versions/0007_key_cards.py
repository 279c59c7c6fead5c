"""key cards: the counting committee's public keys; signatures on sign-offs (issue 16)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('key_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('opening_public', sa.LargeBinary(length=32), nullable=False),
    sa.Column('signing_public', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'],
                            name=op.f('fk_key_card_congress_id_congress'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_key_card_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_card'))
    )
    with op.batch_alter_table('key_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_card_congress_id'), ['congress_id'], unique=False)
    with op.batch_alter_table('signoff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_card_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signature', sa.LargeBinary(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_signoff_key_card_id_key_card'), 'key_card',
                                    ['key_card_id'], ['id'])


def downgrade():
    with op.batch_alter_table('signoff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signoff_key_card_id_key_card'), type_='foreignkey')
        batch_op.drop_column('signature')
        batch_op.drop_column('key_card_id')
    with op.batch_alter_table('key_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_card_congress_id'))
    op.drop_table('key_card')
